"""What each command's `--help` says in the command list, and its examples (the README's).

One table, so `ofevents --help` never cuts a line with "…", every `COMMAND --help` ends with
copy-paste examples, and a test checks each example is in the README as well.
"""

# command path -> (one line for the command list, examples)
HELP: dict[str, tuple[str, tuple[str, ...]]] = {
    "listen": ("Tail the EventBus (or the embedded demo emulator).", (
        "ofevents listen --demo",
        "ofevents listen --demo --json --max-events 5",
        "ofevents listen -e tip -e ppv_purchase -a 384751629",
        "ofevents listen --demo --forward-to 3000/webhooks",
    )),
    "emulator": ("Run a local EventBus with realistic traffic.", (
        "ofevents emulator",
        "ofevents emulator --rate 0 --seed 1",
    )),
    "forward": ("A public URL that relays webhooks to your server.", (
        "ofevents forward --to localhost:3000",
        "ofevents forward --to 3000 --tunnel none --capture today.jsonl --json",
    )),
    "worker": ("Deliver a Redis stream's entries to your handler.", (
        "ofevents worker --from 'redis://127.0.0.1:6379/0?stream=events&group=handlers' "
        "--to 3000",
    )),
    "replay": ("Re-send captured deliveries, as captured or re-signed.", (
        "ofevents replay capture.jsonl --to localhost:3000",
    )),
    "history": ("Browse and search everything that arrived.", (
        "ofevents history --last 20",
        "ofevents history --event tip.received --since 2h --invalid",
    )),
    "history list": ("List deliveries and events, newest first.", (
        "ofevents history --status 5xx --grep jake --json",
    )),
    "history show": ("Show one delivery: headers, body, signature verdict.", (
        "ofevents history show dlv_01JD… --explain",
    )),
    "inspect": ("Browse the history interactively (a terminal UI).", (
        "ofevents inspect",
    )),
    "trigger": ("Send a correctly signed test delivery of any event.", (
        "ofevents trigger tip.received --secret s3cr3t --to 3000",
        "ofevents trigger tip.received --secret s3cr3t --dry-run",
    )),
    "verify": ("Verify captured signatures offline; explain failures.", (
        "ofevents verify capture.jsonl --secret s3cr3t --explain",
    )),
    "check": ("Grade a webhook endpoint: does it refuse forgeries?", (
        "ofevents check 3000 --provider ofapi --secret s3cr3t",
    )),
    "doctor": ("Check this machine's set-up for ofevents.", (
        "ofevents doctor",
    )),
    "events": ("The event catalogue of every provider.", (
        "ofevents events --provider ofauth",
        "ofevents events --json",
    )),
    "events show": ("Print an event's sample payload as trigger sends it.", (
        "ofevents events show tip.received",
    )),
    "config": ("Read and edit the config file (secrets shown masked).", (
        "ofevents config set secrets.ofauth whsec_…",
        "ofevents config list --all",
    )),
    "config path": ("Print where the config file is.", ("ofevents config path",)),
    "config list": ("List the keys that are set.", ("ofevents config list --all",)),
    "config get": ("Print one key's value.", ("ofevents config get eventbus.url",)),
    "config set": ("Set a key.", ("ofevents config set secrets.ofauth whsec_…",)),
    "config unset": ("Remove a key.", ("ofevents config unset ngrok.authtoken",)),
}


def short_help(path: str) -> str:
    """The command list's line for `path`."""
    return HELP[path][0]


def epilog(path: str) -> str:
    """The examples block that ends `path --help` (`\\b` keeps Click from rewrapping it)."""
    lines = "\n".join(f"  {example}" for example in HELP[path][1])
    return f"\b\nExamples:\n{lines}"
