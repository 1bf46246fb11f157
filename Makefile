.PHONY: test check demo

test:
	scripts/test

check:
	scripts/check

demo:
	./demo.sh
