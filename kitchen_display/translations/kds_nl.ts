<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="nl">
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
</context>
<context>
    <name>MainWindow</name>
    <message>
        <source>KDS {station} — {display}</source>
        <extracomment>how long a refused-command message stays on screen</extracomment>
        <translation>KDS {station} — {display}</translation>
    </message>
    <message>
        <source>Nothing to recall: this screen has not bumped a ticket yet</source>
        <extracomment>the look (``theme.colors`` are the card colours) what the agent says is wrong (a printer out of paper, texts failing), until fixed</extracomment>
        <translation>Niets terug te halen: dit scherm heeft nog geen bon afgemeld</translation>
    </message>
    <message>
        <source>Next page</source>
        <extracomment>key actions served by methods other parts of the window provide (when they do)</extracomment>
        <translation>Volgende pagina</translation>
    </message>
    <message>
        <source>Previous page</source>
        <translation>Vorige pagina</translation>
    </message>
    <message>
        <source>Undo</source>
        <translation>Ongedaan maken</translation>
    </message>
    <message>
        <source>{action}: not available on this screen</source>
        <translation>{action}: niet beschikbaar op dit scherm</translation>
    </message>
    <message>
        <source>Kiosk mode: a lead exits with Ctrl+Alt+Q and the PIN</source>
        <translation>Kioskmodus: een leidinggevende sluit af met Ctrl+Alt+Q en de pincode</translation>
    </message>
    <message>
        <source>No lead PIN is set (KDS_DISPLAY_LEAD_PIN or keyring display.lead_pin)</source>
        <translation>Er is geen pincode ingesteld (KDS_DISPLAY_LEAD_PIN of keyring display.lead_pin)</translation>
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
        <source>%n open</source>
        <translation>
            <numerusform>%n bon open</numerusform>
            <numerusform>%n bonnen open</numerusform>
        </translation>
    </message>
</context>
</TS>
