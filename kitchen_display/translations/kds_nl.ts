<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="nl">
<context>
    <name>AboutDialog</name>
    <message>
        <source>About this screen</source>
        <translation>Over dit scherm</translation>
    </message>
    <message>
        <source>ghost-kds kitchen display</source>
        <translation>ghost-kds keukenscherm</translation>
    </message>
    <message>
        <source>CLOSE</source>
        <translation>SLUITEN</translation>
    </message>
    <message>
        <source>(user {user})</source>
        <translation>(gebruiker {user})</translation>
    </message>
    <message>
        <source>Release</source>
        <translation>Versie</translation>
    </message>
    <message>
        <source>Build</source>
        <translation>Build</translation>
    </message>
    <message>
        <source>PySide6 / Qt</source>
        <translation>PySide6 / Qt</translation>
    </message>
    <message>
        <source>Site</source>
        <translation>Vestiging</translation>
    </message>
    <message>
        <source>Station</source>
        <translation>Station</translation>
    </message>
    <message>
        <source>Display id</source>
        <translation>Scherm-id</translation>
    </message>
    <message>
        <source>Config file</source>
        <translation>Configuratiebestand</translation>
    </message>
    <message>
        <source>none (environment only)</source>
        <translation>geen (alleen de omgeving)</translation>
    </message>
    <message>
        <source>Broker</source>
        <translation>Broker</translation>
    </message>
    <message>
        <source>Log</source>
        <translation>Log</translation>
    </message>
    <message>
        <source>the systemd journal (journalctl)</source>
        <translation>het systemd-journaal (journalctl)</translation>
    </message>
    <message>
        <source>standard error (the terminal or service that started it)</source>
        <translation>standaardfout (de terminal of service die het startte)</translation>
    </message>
</context>
<context>
    <name>AllDayList</name>
    <message>
        <source>nothing to make</source>
        <translation>niets te maken</translation>
    </message>
</context>
<context>
    <name>AllDayStrip</name>
    <message>
        <source>nothing</source>
        <translation>niets</translation>
    </message>
    <message>
        <source>ALL DAY  {counts}</source>
        <translation>TOTAAL  {counts}</translation>
    </message>
</context>
<context>
    <name>BoardModel</name>
    <message>
        <source>READY</source>
        <translation>GEREED</translation>
    </message>
    <message>
        <source>LATE +{late}</source>
        <translation>LAAT +{late}</translation>
    </message>
    <message>
        <source>WARN</source>
        <translation>LET OP</translation>
    </message>
    <message>
        <source>RUSH</source>
        <translation>SPOED</translation>
    </message>
</context>
<context>
    <name>BoardView</name>
    <message>
        <source>RUSH</source>
        <translation>SPOED</translation>
    </message>
    <message>
        <source>NORMAL</source>
        <translation>NORMAAL</translation>
    </message>
    <message>
        <source>RECALL…</source>
        <translation>TERUGHALEN…</translation>
    </message>
    <message>
        <source>FOLD STATIONS…</source>
        <translation>POSTEN SAMENVOEGEN…</translation>
    </message>
    <message>
        <source>ALL DAY</source>
        <translation>TOTAAL</translation>
    </message>
    <message>
        <source>86&apos;d (out of stock)</source>
        <translation>Uitverkocht (86)</translation>
    </message>
    <message>
        <source>86 AN ITEM…</source>
        <translation>UITVERKOCHT MELDEN…</translation>
    </message>
    <message>
        <source>BACK IN STOCK</source>
        <translation>WEER LEVERBAAR</translation>
    </message>
    <message>
        <source>Select a ticket first</source>
        <translation>Kies eerst een bon</translation>
    </message>
    <message>
        <source>#{number} has not been bumped anywhere</source>
        <translation>#{number} is nog nergens afgemeld</translation>
    </message>
    <message>
        <source>Recall #{number}</source>
        <translation>#{number} terughalen</translation>
    </message>
    <message>
        <source>Recall #{number} at which station?</source>
        <translation>#{number} terughalen op welke post?</translation>
    </message>
    <message>
        <source>RECALL</source>
        <translation>TERUGHALEN</translation>
    </message>
    <message>
        <source>No items on open tickets to 86</source>
        <translation>Geen items op open bonnen om uitverkocht te melden</translation>
    </message>
    <message>
        <source>86 an item</source>
        <translation>Item uitverkocht melden</translation>
    </message>
    <message>
        <source>Which item is out of stock?</source>
        <translation>Welk item is uitverkocht?</translation>
    </message>
    <message>
        <source>86 IT</source>
        <translation>UITVERKOCHT</translation>
    </message>
    <message>
        <source>Select an 86&apos;d item first</source>
        <translation>Kies eerst een uitverkocht item</translation>
    </message>
    <message>
        <source>BOARD   {open} open   ·   {late} late   ·   {warn} warn   ·   {ready} waiting for pickup</source>
        <translation>OVERZICHT   {open} open   ·   {late} te laat   ·   {warn} let op   ·   {ready} wacht op afhalen</translation>
    </message>
</context>
<context>
    <name>ChoiceDialog</name>
    <message>
        <source>Cancel</source>
        <translation>Annuleren</translation>
    </message>
</context>
<context>
    <name>ConnectionTest</name>
    <message>
        <source>Connected: the agent for site {site} answered, 1 open ticket</source>
        <translation>Verbonden: de agent van vestiging {site} antwoordde, 1 open bon</translation>
    </message>
    <message numerus="yes">
        <source>Connected: the agent for site {site} answered, %n open tickets</source>
        <translation>
            <numerusform>Verbonden: de agent van vestiging {site} antwoordde, %n open bon</numerusform>
            <numerusform>Verbonden: de agent van vestiging {site} antwoordde, %n open bonnen</numerusform>
        </translation>
    </message>
    <message>
        <source>The agent for site {site} answered but refused: {detail}</source>
        <translation>De agent van vestiging {site} antwoordde maar weigerde: {detail}</translation>
    </message>
    <message>
        <source>Unknown host: {host} (check the broker address)</source>
        <translation>Onbekende host: {host} (controleer het brokeradres)</translation>
    </message>
    <message>
        <source>No broker at {where}</source>
        <translation>Geen broker op {where}</translation>
    </message>
    <message>
        <source>The broker refused the login (check the broker user and password)</source>
        <translation>De broker weigerde de aanmelding (controleer de brokergebruiker en het wachtwoord)</translation>
    </message>
    <message>
        <source>The broker does not let this user use site {site}: {detail}</source>
        <translation>De broker laat deze gebruiker vestiging {site} niet gebruiken: {detail}</translation>
    </message>
    <message>
        <source>The broker&apos;s certificate was refused: {detail}</source>
        <translation>Het certificaat van de broker is geweigerd: {detail}</translation>
    </message>
    <message>
        <source>No agent for site {site} answered within {seconds} s</source>
        <translation>Geen agent van vestiging {site} antwoordde binnen {seconds} s</translation>
    </message>
    <message>
        <source>The connection test failed: {detail}</source>
        <translation>De verbindingstest mislukte: {detail}</translation>
    </message>
</context>
<context>
    <name>FoldDialog</name>
    <message>
        <source>Fold stations</source>
        <translation>Posten samenvoegen</translation>
    </message>
    <message>
        <source>Fold</source>
        <translation>Verplaats</translation>
    </message>
    <message>
        <source>into</source>
        <translation>naar</translation>
    </message>
    <message>
        <source>FOLD</source>
        <translation>SAMENVOEGEN</translation>
    </message>
    <message>
        <source>UNFOLD {source} (now on {into})</source>
        <translation>{source} LOSMAKEN (nu op {into})</translation>
    </message>
    <message>
        <source>UNFOLD ALL</source>
        <translation>ALLES LOSMAKEN</translation>
    </message>
    <message>
        <source>Close</source>
        <translation>Sluiten</translation>
    </message>
    <message>
        <source>Folded now: {folds}</source>
        <translation>Nu samengevoegd: {folds}</translation>
    </message>
    <message>
        <source>none</source>
        <translation>geen</translation>
    </message>
    <message>
        <source>Pick two different stations</source>
        <translation>Kies twee verschillende posten</translation>
    </message>
</context>
<context>
    <name>Header</name>
    <message>
        <source>ALL DAY</source>
        <translation>TOTAAL</translation>
    </message>
    <message>
        <source>RECALL…</source>
        <translation>TERUGHALEN…</translation>
    </message>
    <message>
        <source>VIEW…</source>
        <translation>WEERGAVE…</translation>
    </message>
    <message>
        <source>ALL DAY, RECALL…, VIEW…</source>
        <translation>TOTAAL, TERUGHALEN…, WEERGAVE…</translation>
    </message>
    <message>
        <source>About this screen</source>
        <translation>Over dit scherm</translation>
    </message>
</context>
<context>
    <name>Keypad</name>
    <message>
        <source>CLEAR</source>
        <translation>WISSEN</translation>
    </message>
</context>
<context>
    <name>LeadGate</name>
    <message>
        <source>The lead PIN cannot be checked: set it again (kitchen-display set-pin)</source>
        <translation>De pincode van de leidinggevende kan niet worden gecontroleerd: stel hem opnieuw in (kitchen-display set-pin)</translation>
    </message>
</context>
<context>
    <name>LeadPinDialog</name>
    <message>
        <source>Exit kiosk mode</source>
        <translation>Kioskmodus verlaten</translation>
    </message>
    <message>
        <source>Lead PIN to close this screen:</source>
        <translation>Pincode van de leidinggevende om dit scherm te sluiten:</translation>
    </message>
    <message>
        <source>Exit</source>
        <translation>Afsluiten</translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation>Annuleren</translation>
    </message>
    <message>
        <source>Too many wrong PINs: try again in {seconds} s</source>
        <translation>Te vaak een verkeerde pincode: probeer het over {seconds} s opnieuw</translation>
    </message>
</context>
<context>
    <name>LeadViews</name>
    <message>
        <source>VIEW: {name}</source>
        <translation>WEERGAVE: {name}</translation>
    </message>
    <message>
        <source>Unknown view: {name}</source>
        <translation>Onbekende weergave: {name}</translation>
    </message>
    <message>
        <source>Switch view</source>
        <translation>Weergave wisselen</translation>
    </message>
    <message>
        <source>Lead PIN to show the {name} view:</source>
        <translation>Pincode van de leidinggevende om de weergave {name} te tonen:</translation>
    </message>
    <message>
        <source>Switch</source>
        <translation>Wisselen</translation>
    </message>
    <message>
        <source>Wrong PIN: the view stays</source>
        <translation>Verkeerde pincode: de weergave blijft</translation>
    </message>
    <message>
        <source>STATION — {station}</source>
        <translation>POST — {station}</translation>
    </message>
    <message>
        <source>EXPO — whole orders, ready for pickup</source>
        <translation>EXPO — hele bestellingen, gereed voor afhalen</translation>
    </message>
    <message>
        <source>BOARD — every ticket, late first (leads)</source>
        <translation>OVERZICHT — alle bonnen, te laat eerst (leidinggevenden)</translation>
    </message>
    <message>
        <source>Show which view?</source>
        <translation>Welke weergave tonen?</translation>
    </message>
    <message>
        <source>SHOW</source>
        <translation>TONEN</translation>
    </message>
    <message>
        <source>ALL DAY — hide the counts</source>
        <translation>TOTAAL — tellingen verbergen</translation>
    </message>
    <message>
        <source>ALL DAY — what is still to make</source>
        <translation>TOTAAL — wat er nog gemaakt moet worden</translation>
    </message>
    <message>
        <source>RECALL… — tickets bumped here lately</source>
        <translation>TERUGHALEN… — bonnen die hier net zijn afgemeld</translation>
    </message>
    <message>
        <source>ABOUT — release, site, broker</source>
        <translation>OVER — versie, vestiging, broker</translation>
    </message>
    <message>
        <source>Lead tools</source>
        <translation>Hulpmiddelen voor de chef</translation>
    </message>
    <message>
        <source>Open what?</source>
        <translation>Wat openen?</translation>
    </message>
    <message>
        <source>OPEN</source>
        <translation>OPENEN</translation>
    </message>
</context>
<context>
    <name>MainWindow</name>
    <message>
        <source>KDS {station} — {display}</source>
        <translation>KDS {station} — {display}</translation>
    </message>
    <message>
        <source>Nothing to recall: this screen has not bumped a ticket yet</source>
        <translation>Niets terug te halen: dit scherm heeft nog geen bon afgemeld</translation>
    </message>
    <message>
        <source>Kiosk mode: a lead exits with Ctrl+Alt+Q and the PIN</source>
        <translation>Kioskmodus: een leidinggevende sluit af met Ctrl+Alt+Q en de pincode</translation>
    </message>
    <message>
        <source>No lead PIN is set (kitchen-display set-pin)</source>
        <translation>Er is geen pincode ingesteld (kitchen-display set-pin)</translation>
    </message>
    <message>
        <source>Wrong PIN: the screen stays open</source>
        <translation>Verkeerde pincode: het scherm blijft open</translation>
    </message>
    <message>
        <source>label</source>
        <translation>het label</translation>
    </message>
    <message>
        <source>ticket</source>
        <translation>de bon</translation>
    </message>
    <message>
        <source>Reprint of the {kind} sent to the printer</source>
        <translation>Herdruk van {kind} naar de printer gestuurd</translation>
    </message>
    <message numerus="yes">
        <source>← %n more</source>
        <translation>
            <numerusform>← nog %n</numerusform>
            <numerusform>← nog %n</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>+%n more →</source>
        <translation>
            <numerusform>+%n meer →</numerusform>
            <numerusform>+%n meer →</numerusform>
        </translation>
    </message>
    <message>
        <source>● ONLINE</source>
        <translation>● VERBONDEN</translation>
    </message>
    <message>
        <source>showing last known state</source>
        <translation>laatst bekende stand wordt getoond</translation>
    </message>
    <message>
        <source>no tickets received yet</source>
        <translation>nog geen bonnen ontvangen</translation>
    </message>
    <message>
        <source>kitchen agent not responding</source>
        <translation>keukenagent reageert niet</translation>
    </message>
    <message>
        <source>broker or agent unreachable</source>
        <translation>broker of agent onbereikbaar</translation>
    </message>
    <message>
        <source>OFFLINE — {why} since {since}; {state}</source>
        <translation>OFFLINE — {why} sinds {since}; {state}</translation>
    </message>
    <message>
        <source>● OFFLINE</source>
        <translation>● OFFLINE</translation>
    </message>
    <message numerus="yes">
        <source>↻ %n waiting to send</source>
        <translation>
            <numerusform>↻ %n wacht op verzending</numerusform>
            <numerusform>↻ %n wachten op verzending</numerusform>
        </translation>
    </message>
    <message>
        <source>1 command expired without an answer from the kitchen: {commands}</source>
        <translation>1 opdracht vervallen zonder antwoord van de keuken: {commands}</translation>
    </message>
    <message numerus="yes">
        <source>%n commands expired without an answer from the kitchen: {commands}</source>
        <translation>
            <numerusform>%n opdracht vervallen zonder antwoord van de keuken: {commands}</numerusform>
            <numerusform>%n opdrachten vervallen zonder antwoord van de keuken: {commands}</numerusform>
        </translation>
    </message>
    <message>
        <source>1 command expired unsent: {commands}</source>
        <translation>1 opdracht vervallen, niet verzonden: {commands}</translation>
    </message>
    <message numerus="yes">
        <source>%n commands expired unsent: {commands}</source>
        <translation>
            <numerusform>%n opdracht vervallen, niet verzonden: {commands}</numerusform>
            <numerusform>%n opdrachten vervallen, niet verzonden: {commands}</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n open</source>
        <translation>
            <numerusform>%n bon open</numerusform>
            <numerusform>%n bonnen open</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>ReadyShelf</name>
    <message>
        <source>READY FOR PICKUP ({count})</source>
        <translation>GEREED VOOR AFHALEN ({count})</translation>
    </message>
    <message>
        <source>#{number} {brand}
PICKED UP</source>
        <translation>#{number} {brand}
AFGEHAALD</translation>
    </message>
</context>
<context>
    <name>RecallListDialog</name>
    <message>
        <source>Recall at {station}</source>
        <translation>Terughalen op {station}</translation>
    </message>
    <message>
        <source>Bumped at {station} in the last {minutes} minutes</source>
        <translation>Afgemeld op {station} in de laatste {minutes} minuten</translation>
    </message>
    <message>
        <source>#{number}  {brand}   bumped {time} ({ago} ago)</source>
        <translation>#{number}  {brand}   afgemeld {time} ({ago} geleden)</translation>
    </message>
    <message>
        <source>Nothing bumped here in the last 15 minutes</source>
        <translation>Hier niets afgemeld in de laatste 15 minuten</translation>
    </message>
    <message>
        <source>RECALL</source>
        <translation>TERUGHALEN</translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation>Annuleren</translation>
    </message>
</context>
<context>
    <name>SetupForm</name>
    <message>
        <source>Site id</source>
        <translation>Vestiging-id</translation>
    </message>
    <message>
        <source>Station</source>
        <translation>Station</translation>
    </message>
    <message>
        <source>Display id</source>
        <translation>Scherm-id</translation>
    </message>
    <message>
        <source>Broker address</source>
        <translation>Brokeradres</translation>
    </message>
    <message>
        <source>Port</source>
        <translation>Poort</translation>
    </message>
    <message>
        <source>Broker user</source>
        <translation>Brokergebruiker</translation>
    </message>
    <message>
        <source>Password</source>
        <translation>Wachtwoord</translation>
    </message>
    <message>
        <source>type the site&apos;s id (for example ams-01)</source>
        <translation>typ de id van de vestiging (bijvoorbeeld ams-01)</translation>
    </message>
    <message>
        <source>only letters, digits, - and _ (for example ams-01)</source>
        <translation>alleen letters, cijfers, - en _ (bijvoorbeeld ams-01)</translation>
    </message>
    <message>
        <source>tap the station this screen is for</source>
        <translation>tik op het station van dit scherm</translation>
    </message>
    <message>
        <source>type this screen&apos;s id (for example grill-1)</source>
        <translation>typ de id van dit scherm (bijvoorbeeld grill-1)</translation>
    </message>
    <message>
        <source>only letters, digits, - and _ (for example grill-1)</source>
        <translation>alleen letters, cijfers, - en _ (bijvoorbeeld grill-1)</translation>
    </message>
    <message>
        <source>type the broker&apos;s address (for example 10.0.0.5)</source>
        <translation>typ het adres van de broker (bijvoorbeeld 10.0.0.5)</translation>
    </message>
    <message>
        <source>not a host name or IP address: {host}</source>
        <translation>geen hostnaam of IP-adres: {host}</translation>
    </message>
    <message>
        <source>a number from 1 to 65535 (usually 61613, TLS 61614)</source>
        <translation>een getal van 1 tot 65535 (meestal 61613, TLS 61614)</translation>
    </message>
    <message>
        <source>only letters, digits, . _ and - (for example kds-ams-01-grill-1)</source>
        <translation>alleen letters, cijfers, . _ en - (bijvoorbeeld kds-ams-01-grill-1)</translation>
    </message>
</context>
<context>
    <name>SetupWindow</name>
    <message>
        <source>Set up this kitchen screen</source>
        <translation>Dit keukenscherm instellen</translation>
    </message>
    <message>
        <source>for example {example}</source>
        <translation>bijvoorbeeld {example}</translation>
    </message>
    <message>
        <source>TLS</source>
        <translation>TLS</translation>
    </message>
    <message>
        <source>stomp+ssl:// (Amazon MQ: port 61614)</source>
        <translation>stomp+ssl:// (Amazon MQ: poort 61614)</translation>
    </message>
    <message>
        <source>SHOW</source>
        <translation>TONEN</translation>
    </message>
    <message>
        <source>TEST CONNECTION</source>
        <translation>VERBINDING TESTEN</translation>
    </message>
    <message>
        <source>SAVE AND START</source>
        <translation>OPSLAAN EN STARTEN</translation>
    </message>
    <message>
        <source>QUIT</source>
        <translation>AFSLUITEN</translation>
    </message>
    <message>
        <source>No configuration yet: fill in the fields, test the connection, then save.</source>
        <translation>Nog geen configuratie: vul de velden in, test de verbinding en sla op.</translation>
    </message>
    <message>
        <source>GRILL</source>
        <translation>GRILL</translation>
    </message>
    <message>
        <source>FRY</source>
        <translation>FRITUUR</translation>
    </message>
    <message>
        <source>COLD</source>
        <translation>KOUD</translation>
    </message>
    <message>
        <source>BAR</source>
        <translation>BAR</translation>
    </message>
    <message>
        <source>EXPO</source>
        <translation>EXPO</translation>
    </message>
    <message>
        <source>LEAD (BOARD)</source>
        <translation>CHEF (OVERZICHT)</translation>
    </message>
    <message>
        <source>Typing: {field}</source>
        <translation>Typen: {field}</translation>
    </message>
    <message>
        <source>Saved, but the display cannot start: {problem}</source>
        <translation>Opgeslagen, maar het scherm kan niet starten: {problem}</translation>
    </message>
    <message>
        <source>HIDE</source>
        <translation>VERBERGEN</translation>
    </message>
    <message>
        <source>Testing the connection to {where}…</source>
        <translation>Verbinding met {where} testen…</translation>
    </message>
    <message>
        <source>The password cannot be stored in the keyring: {error}</source>
        <translation>Het wachtwoord kan niet in de sleutelbos worden bewaard: {error}</translation>
    </message>
    <message>
        <source>Cannot write {path}: {error}</source>
        <translation>Kan {path} niet schrijven: {error}</translation>
    </message>
    <message>
        <source>Saved to {path}: starting the display…</source>
        <translation>Opgeslagen in {path}: het scherm start…</translation>
    </message>
</context>
<context>
    <name>TicketCardDelegate</name>
    <message>
        <source>START</source>
        <translation>START</translation>
    </message>
    <message>
        <source>BUMP</source>
        <translation>KLAAR</translation>
    </message>
    <message>
        <source>ALLERGY SEEN ✓</source>
        <translation>ALLERGIE GEZIEN ✓</translation>
    </message>
    <message>
        <source>OK, SEEN</source>
        <translation>OK, GEZIEN</translation>
    </message>
    <message>
        <source>LATE +{time}</source>
        <translation>LAAT +{time}</translation>
    </message>
    <message>
        <source>DUE IN {time}</source>
        <translation>NOG {time}</translation>
    </message>
    <message>
        <source>WARN {time}</source>
        <translation>LET OP {time}</translation>
    </message>
    <message>
        <source>↻ {action} PENDING</source>
        <translation>↻ {action} IN WACHTRIJ</translation>
    </message>
    <message>
        <source>↻ {action} NOT CONFIRMED</source>
        <translation>↻ {action} NIET BEVESTIGD</translation>
    </message>
    <message>
        <source>VOID</source>
        <translation>STORNO</translation>
    </message>
    <message>
        <source>RUSH ↑</source>
        <translation>SPOED ↑</translation>
    </message>
    <message>
        <source>RUSH</source>
        <translation>SPOED</translation>
    </message>
    <message>
        <source>STARTED</source>
        <translation>GESTART</translation>
    </message>
    <message>
        <source>⚠ ALLERGY</source>
        <translation>⚠ ALLERGIE</translation>
    </message>
    <message>
        <source>✓ SEEN {time}</source>
        <translation>✓ GEZIEN {time}</translation>
    </message>
    <message>
        <source>+{count} more lines</source>
        <translation>+{count} regels meer</translation>
    </message>
    <message>
        <source>UNAVAILABLE</source>
        <translation>UITVERKOCHT</translation>
    </message>
    <message>
        <source>CHANGED</source>
        <translation>GEWIJZIGD</translation>
    </message>
    <message>
        <source>fire at {time}</source>
        <translation>starten om {time}</translation>
    </message>
    <message>
        <source>NOTE: {note}</source>
        <translation>NOTITIE: {note}</translation>
    </message>
    <message>
        <source>ORDER NOTE: {note}</source>
        <translation>BESTELNOTITIE: {note}</translation>
    </message>
    <message>
        <source>contains: {allergens}</source>
        <translation>bevat: {allergens}</translation>
    </message>
    <message>
        <source>also at: {stations}</source>
        <translation>ook op: {stations}</translation>
    </message>
    <message>
        <source>(no lines)</source>
        <translation>(geen regels)</translation>
    </message>
    <message>
        <source>✓ done</source>
        <translation>✓ klaar</translation>
    </message>
    <message>
        <source>in progress</source>
        <translation>bezig</translation>
    </message>
    <message>
        <source>waiting</source>
        <translation>wacht</translation>
    </message>
</context>
<context>
    <name>TicketSync</name>
    <message>
        <source>{kind} dropped: more than {limit} commands waiting for the kitchen</source>
        <translation>{kind} vervallen: meer dan {limit} opdrachten wachten op de keuken</translation>
    </message>
    <message>
        <source>{kind} refused: {why}</source>
        <translation>{kind} geweigerd: {why}</translation>
    </message>
    <message>
        <source>This screen may not show site {site}: {why}</source>
        <translation>Dit scherm mag site {site} niet tonen: {why}</translation>
    </message>
</context>
<context>
    <name>UndoBar</name>
    <message>
        <source>UNDO</source>
        <translation>ONGEDAAN MAKEN</translation>
    </message>
    <message>
        <source>Bumped #{number}</source>
        <translation>#{number} afgemeld</translation>
    </message>
</context>
</TS>
