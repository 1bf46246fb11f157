.PHONY: test check smoke build demo

test:
	scripts/test

check:
	scripts/check

smoke:
	scripts/smoke

build:
	scripts/build

demo:
	./demo.sh
