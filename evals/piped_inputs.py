"""Piped inputs of real size for stdin tasks (`cmd | llmos-ask "QUERY"`), generated instead of written inline.

A task names one with `stdin_generated = { kind = "app_log", records = 430000, seed = 7 }`; the runner streams it
to a file in the task's workspace and pipes that file to `llmos-ask`, so a 50 MB log never sits in the runner's
memory as one string. Every generator draws from `random.Random(seed)` and a fixed clock, so the same spec gives
the same bytes on every machine: a task can state exact facts (counts, names, totals) about its input, and a unit
test regenerates the input and counts them again independently.

The text is realistic on purpose: timestamps, hex, paths and many digits, which is what makes real logs cost
many tokens per line.
"""

from __future__ import annotations

import collections
import json
import random
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta, timezone
from enum import StrEnum
from pathlib import Path

import pydantic

WRITE_BUFFER_BYTES = 1 << 20
# A fixed "now" for every generator: the inputs must not depend on the day they are generated.
EPOCH = datetime(2024, 5, 14, 9, 0, 0, tzinfo=UTC)


class InputKind(StrEnum):
    DMESG = "dmesg"
    """Kernel ring buffer (`dmesg`): records are lines; a few disk I/O errors among ordinary lines."""
    APP_LOG = "app_log"
    """An application log: records are lines at INFO/DEBUG/WARN/ERROR, a handful of error messages."""
    ACCESS_LOG = "access_log"
    """An nginx combined access log: records are lines."""
    SALES_CSV = "sales_csv"
    """A CSV of orders: records are rows after the header."""
    PS_AUX = "ps_aux"
    """`ps aux` output: records are processes after the header."""
    DF_H = "df_h"
    """`df -h` output: records are filesystems after the header."""
    GIT_LOG = "git_log"
    """`git log` output: records are commits, newest first."""
    USERS_JSON = "users_json"
    """A JSON document with a list of user accounts: records are users."""


class GeneratedInput(pydantic.BaseModel):
    """A deterministic piped input: what kind, how many records, which seed, and optionally only its tail."""

    model_config = pydantic.ConfigDict(extra="forbid", frozen=True)

    kind: InputKind
    records: int = pydantic.Field(ge=1)
    """Log lines, CSV rows, processes, filesystems, commits or users (see InputKind)."""
    seed: int = 1
    tail_lines: int | None = pydantic.Field(default=None, ge=1)
    """Pipe only the last N lines of the generated text (`... | tail -n N | llmos-ask`)."""

    def describe(self) -> str:
        tail = f", last {self.tail_lines} lines" if self.tail_lines else ""
        return f"{self.kind.value} x{self.records} seed {self.seed}{tail}"


def generated_chunks(spec: GeneratedInput) -> Iterator[str]:
    """The input's text in pieces (each ends with a newline), in order; joined, they are the whole input."""
    chunks = GENERATORS[spec.kind](random.Random(spec.seed), spec.records)
    if spec.tail_lines is None:
        return chunks
    return iter(collections.deque(_lines(chunks), maxlen=spec.tail_lines))


def write_generated_input(spec: GeneratedInput, path: Path) -> int:
    """Stream the input to `path` (never held whole in memory); returns its size in bytes."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="\n", buffering=WRITE_BUFFER_BYTES) as handle:
        for chunk in generated_chunks(spec):
            handle.write(chunk)
    return path.stat().st_size


def _lines(chunks: Iterator[str]) -> Iterator[str]:
    for chunk in chunks:
        yield from chunk.splitlines(keepends=True)


def _hex(rng: random.Random, digits: int) -> str:
    return f"{rng.getrandbits(4 * digits):0{digits}x}"


# -- dmesg -----------------------------------------------------------------------------------------------------

_DMESG_ORDINARY: list[Callable[[random.Random], str]] = [
    lambda r: f"usb {r.randint(1, 4)}-{r.randint(1, 6)}: new high-speed USB device number {r.randint(2, 40)} "
              f"using xhci_hcd",
    lambda r: f"usb {r.randint(1, 4)}-{r.randint(1, 6)}: New USB device found, idVendor={_hex(r, 4)}, "
              f"idProduct={_hex(r, 4)}, bcdDevice= {r.randint(1, 9)}.{r.randint(0, 99):02d}",
    lambda r: f"wlp2s0: authenticate with {_hex(r, 2)}:{_hex(r, 2)}:{_hex(r, 2)}:{_hex(r, 2)}:{_hex(r, 2)}:"
              f"{_hex(r, 2)}",
    lambda r: "wlp2s0: associated",
    lambda r: "IPv6: ADDRCONF(NETDEV_CHANGE): wlp2s0: link becomes ready",
    lambda r: f"audit: type=1400 audit({1715677200 + r.randint(0, 90000)}.{r.randint(0, 999):03d}:{r.randint(10, 999)}"
              f"): apparmor=\"DENIED\" operation=\"open\" profile=\"snap.firefox.firefox\" "
              f"name=\"/proc/{r.randint(300, 9000)}/oom_score_adj\" pid={r.randint(300, 9000)} comm=\"firefox\"",
    lambda r: f"EXT4-fs (nvme0n1p2): mounted filesystem {_hex(r, 8)}-{_hex(r, 4)}-{_hex(r, 4)}-{_hex(r, 4)}-"
              f"{_hex(r, 12)} r/w with ordered data mode. Quota mode: none.",
    lambda r: f"i915 0000:00:02.0: [drm] GT0: GuC firmware i915/tgl_guc_70.bin version 70.{r.randint(1, 20)}.0",
    lambda r: f"Bluetooth: hci0: Firmware revision 0.{r.randint(0, 9)} build {r.randint(10, 300)} week "
              f"{r.randint(1, 52)} 2023",
    lambda r: f"nvme nvme0: {r.randint(2, 16)}/0/0 default/read/poll queues",
    lambda r: f"CPU{r.randint(0, 15)}: Core temperature above threshold, cpu clock throttled (total events = "
              f"{r.randint(1, 9000)})",
    lambda r: f"systemd-journald[{r.randint(200, 900)}]: Time spent on flushing to /var/log/journal/{_hex(r, 32)} "
              f"is {r.randint(1000, 99999)}us for {r.randint(500, 3000)} entries.",
    lambda r: f"r8169 0000:{r.randint(1, 9):02x}:00.0 enp{r.randint(1, 9)}s0: Link is Up - 1Gbps/Full - flow control "
              f"rx/tx",
    lambda r: f"docker0: port {r.randint(1, 6)}(veth{_hex(r, 7)}) entered forwarding state",
    lambda r: f"sd {r.randint(0, 3)}:0:0:0: [sda] {r.choice(['Write cache: enabled', 'Mode Sense: 43 00 00 00'])}",
    lambda r: f"ACPI BIOS Error (bug): Could not resolve symbol [\\_SB.PCI0.GPP{r.randint(0, 7)}.SWUS], AE_NOT_FOUND "
              f"(20230628/dswload2-{r.randint(100, 200)})",
]


def _dmesg(rng: random.Random, records: int) -> Iterator[str]:
    """Ordinary kernel lines with a few `blk_update_request: I/O error` lines, all on one disk, after the first
    fifth of the log (a disk that starts failing after boot)."""
    device = rng.choice(["sdb", "sdc", "sdd"])
    error_count = max(4, records // 50)
    error_positions = set(rng.sample(range(records // 5, records), min(error_count, records - records // 5)))
    uptime = 0.0
    for position in range(records):
        uptime += rng.expovariate(1 / 4.0)
        if position in error_positions:
            operation = rng.choice(["0x0:(READ)", "0x1:(WRITE)"])
            text = (f"blk_update_request: I/O error, dev {device}, sector {rng.randint(2048, 976773167)} "
                    f"op {operation} flags 0x{rng.choice(['0', '80700', '4800'])} phys_seg {rng.randint(1, 32)} "
                    f"prio class 0")
        else:
            text = rng.choice(_DMESG_ORDINARY)(rng)
        yield f"[{uptime:12.6f}] {text}\n"


# -- application log --------------------------------------------------------------------------------------------

# (message, weight): the weights make the most common error unambiguous over any sizeable log.
_APP_ERRORS = [
    ("upstream timed out after 30000 ms (payments-gateway)", 38),
    ("connection reset by peer (db-primary:5432)", 24),
    ("failed to parse request body: unexpected end of JSON input", 15),
    ("disk quota exceeded writing /var/lib/shopd/uploads/tmp", 11),
    ("certificate verify failed for https://auth.internal.example:8443", 7),
    ("NullPointerException in OrderService.applyDiscount", 5),
]
_APP_ERROR_MESSAGES = [message for message, _ in _APP_ERRORS]
_APP_ERROR_CUMULATIVE = [sum(weight for _, weight in _APP_ERRORS[: index + 1]) for index in range(len(_APP_ERRORS))]
_APP_PATHS = ["/api/v2/orders", "/api/v2/cart", "/api/v2/products", "/api/v2/users", "/api/v2/invoices"]
_APP_LOGGERS = ["api.orders", "api.cart", "api.catalog", "auth.session", "jobs.mailer", "db.pool"]


def _app_log(rng: random.Random, records: int) -> Iterator[str]:
    """About 2% ERROR lines; the level word ERROR appears on no other line."""
    clock_ms = 0
    start = EPOCH
    batch: list[str] = []
    for _ in range(records):
        clock_ms += rng.randrange(1, 40)
        seconds, millis = divmod(clock_ms, 1000)
        minutes, second = divmod(seconds, 60)
        hours, minute = divmod(minutes, 60)
        stamp = f"{start.date().isoformat()}T{(9 + hours) % 24:02d}:{minute:02d}:{second:02d}.{millis:03d}Z"
        thread = f"worker-{rng.randrange(1, 17)}"
        request_id = _hex(rng, 12)
        roll = rng.random()
        if roll < 0.02:
            message = rng.choices(_APP_ERROR_MESSAGES, cum_weights=_APP_ERROR_CUMULATIVE)[0]
            line = f"{stamp} ERROR [{thread}] {rng.choice(_APP_LOGGERS)} request_id={request_id} {message}\n"
        elif roll < 0.07:
            line = (f"{stamp} WARN  [{thread}] db.pool request_id={request_id} slow query took "
                    f"{rng.randrange(800, 5000)} ms (SELECT * FROM orders WHERE customer_id = "
                    f"{rng.randrange(1, 99999)})\n")
        elif roll < 0.15:
            line = (f"{stamp} DEBUG [{thread}] cache request_id={request_id} key=product:{rng.randrange(1, 50000)} "
                    f"hit={rng.choice(['true', 'false'])} ttl={rng.randrange(10, 3600)}s\n")
        else:
            line = (f"{stamp} INFO  [{thread}] {rng.choice(_APP_LOGGERS)} request_id={request_id} "
                    f"{rng.choice(['GET', 'GET', 'POST', 'PUT'])} {rng.choice(_APP_PATHS)}/{rng.randrange(1, 99999)} "
                    f"status={rng.choice([200, 200, 200, 201, 204, 304, 404])} duration_ms={rng.randrange(1, 900)}\n")
        batch.append(line)
        if len(batch) == 4096:
            yield "".join(batch)
            batch.clear()
    if batch:
        yield "".join(batch)


# -- access log ---------------------------------------------------------------------------------------------------

_AGENTS = [
    "Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 "
    "Safari/605.1.15",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",
    "curl/8.5.0",
    "Googlebot/2.1 (+http://www.google.com/bot.html)",
]
_ACCESS_PATHS = ["/", "/index.html", "/static/app.{h}.js", "/static/style.{h}.css", "/img/logo.svg", "/blog/{n}",
                 "/api/v1/items?page={n}", "/favicon.ico", "/wp-login.php"]


def _access_log(rng: random.Random, records: int) -> Iterator[str]:
    clock_s = 0
    batch: list[str] = []
    for _ in range(records):
        clock_s += rng.randrange(0, 3)
        moment = EPOCH + timedelta(seconds=clock_s)
        address = f"{rng.choice([203, 198, 192, 10])}.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}"
        path = rng.choice(_ACCESS_PATHS).format(h=_hex(rng, 8), n=rng.randrange(1, 500))
        batch.append(
            f'{address} - - [{moment:%d/%b/%Y:%H:%M:%S} +0000] "{rng.choice(["GET", "GET", "GET", "POST"])} {path} '
            f'HTTP/1.1" {rng.choice([200, 200, 200, 304, 404, 301, 500])} {rng.randrange(0, 250000)} '
            f'"https://shop.example.org/" "{rng.choice(_AGENTS)}"\n')
        if len(batch) == 4096:
            yield "".join(batch)
            batch.clear()
    if batch:
        yield "".join(batch)


# -- sales CSV ----------------------------------------------------------------------------------------------------

# Regions are not equally likely, so one region has clearly the largest total.
_REGIONS = ["north", "south", "east", "west", "central"]
_REGION_WEIGHTS = [18, 15, 22, 31, 14]
_PRODUCTS = [("USB-C hub", 3499), ("27in monitor", 28900), ("mechanical keyboard", 8950), ("webcam 1080p", 5499),
             ("laptop stand", 3150), ("noise-cancelling headset", 17900)]


def _sales_csv(rng: random.Random, records: int) -> Iterator[str]:
    yield "order_id,date,region,product,units,unit_price,amount\n"
    for index in range(records):
        product, cents = rng.choice(_PRODUCTS)
        units = rng.randint(1, 24)
        day = (EPOCH - timedelta(days=rng.randrange(0, 120))).date()
        region = rng.choices(_REGIONS, weights=_REGION_WEIGHTS)[0]
        yield (f"SO-{100000 + index},{day.isoformat()},{region},{product},{units},{cents // 100}.{cents % 100:02d},"
               f"{units * cents // 100}.{units * cents % 100:02d}\n")


# -- ps aux -------------------------------------------------------------------------------------------------------

_MEMORY_KB = 16_318_784
_PS_COMMANDS = [
    ("root", "[kworker/{n}:{m}-events]", 0, 0), ("root", "[ksoftirqd/{n}]", 0, 0), ("root", "[migration/{n}]", 0, 0),
    ("sam", "/usr/lib/firefox/firefox -contentproc -childID {n} -isForBrowser -prefsLen {m} tab", 60_000, 260_000),
    ("sam", "/usr/share/code/code --type=renderer --crashpad-handler-pid={n}", 80_000, 240_000),
    ("sam", "/usr/bin/gnome-shell", 250_000, 400_000), ("root", "/usr/lib/systemd/systemd-journald", 20_000, 60_000),
    ("sam", "/usr/bin/pipewire", 12_000, 30_000), ("root", "/usr/sbin/NetworkManager --no-daemon", 15_000, 25_000),
    ("postgres", "postgres: 16/main: checkpointer", 8_000, 40_000),
    ("sam", "/usr/bin/python3 -m http.server {n}", 18_000, 30_000), ("sam", "bash", 4_000, 8_000),
]
_PS_BIGGEST = ("elastic", "/usr/share/elasticsearch/jdk/bin/java -Xms6g -Xmx6g -XX:+UseG1GC "
               "-Des.path.home=/usr/share/elasticsearch org.elasticsearch.bootstrap.Elasticsearch")


def _ps_aux(rng: random.Random, records: int) -> Iterator[str]:
    """One process (Elasticsearch's java) holds clearly more memory than any other, and more than any group of
    same-named processes together, so "which process uses the most memory" has one answer. A daemon (a command
    without placeholders) runs once; its later draws become kernel threads."""
    yield "USER         PID %CPU %MEM    VSZ   RSS TTY      STAT START   TIME COMMAND\n"
    biggest_at = rng.randrange(records // 2, records)
    pid = 1
    daemons_seen: set[str] = set()
    for index in range(records):
        pid += rng.randrange(1, 60)
        if index == biggest_at:
            user, command = _PS_BIGGEST
            rss = rng.randrange(6_300_000, 6_600_000)
        else:
            user, template, low, high = rng.choice(_PS_COMMANDS)
            if "{" not in template and template in daemons_seen:
                user, template, low, high = _PS_COMMANDS[0]
            daemons_seen.add(template)
            command = template.format(n=rng.randrange(0, 16), m=rng.randrange(1, 9000))
            rss = rng.randrange(low, high) if high else 0
        vsz = rss * rng.randrange(2, 9) + rng.randrange(0, 9000) if rss else 0
        tty = "?" if rss == 0 or rng.random() < 0.8 else f"pts/{rng.randrange(0, 4)}"
        state = "I<" if rss == 0 else rng.choice(["Sl", "S", "Ssl", "Rl", "S+"])
        started = f"{rng.randrange(7, 11):02d}:{rng.randrange(60):02d}"
        cpu_time = f"{rng.randrange(0, 30)}:{rng.randrange(60):02d}" if rss else "0:00"
        cpu = rng.randrange(0, 250) / 10 if rss else 0.0
        yield (f"{user:<10} {pid:>6} {cpu:>4.1f} {rss * 100 / _MEMORY_KB:>4.1f} {vsz:>7} "
               f"{rss:>6} {tty:<8} {state:<4} {started}  {cpu_time:>5} {command}\n")


# -- df -h --------------------------------------------------------------------------------------------------------

def _human(kib: int) -> str:
    """A size as `df -h` prints it: one decimal below 10, none from 10 on, in powers of 1024."""
    value = float(kib)
    for unit in "KMGTP":
        if value < 1024 or unit == "P":
            return f"{value:.1f}{unit}" if value < 10 else f"{value:.0f}{unit}"
        value /= 1024
    raise AssertionError("unreachable")


def _df_h(rng: random.Random, records: int) -> Iterator[str]:
    """Every filesystem below 90% full but one, so "which is fullest" has one answer."""
    yield "Filesystem                   Size  Used Avail Use% Mounted on\n"
    fullest_at = rng.randrange(records)
    for index in range(records):
        kind = index % 6
        if kind == 0:
            source, mount = "tmpfs", rng.choice(["/run", "/dev/shm", "/run/lock", f"/run/user/{1000 + index}"])
            size = rng.randrange(5_000, 8_000_000)
        elif kind == 1:
            source = f"/dev/nvme0n1p{index // 6 + 1}"
            mount = ["/", "/home", "/var", "/boot/efi", "/opt"][index // 6 % 5]
            size = rng.randrange(500_000, 900_000_000)
        elif kind == 2:
            source, mount = f"/dev/mapper/vg{index // 6}-data", f"/srv/data{index // 6}"
            size = rng.randrange(50_000_000, 4_000_000_000)
        elif kind == 3:
            source, mount = f"nas.lan:/export/share{index // 6}", f"/mnt/share{index // 6}"
            size = rng.randrange(1_000_000_000, 8_000_000_000)
        elif kind == 4:
            source, mount = "overlay", f"/var/lib/docker/overlay2/{_hex(rng, 24)}/merged"
            size = rng.randrange(50_000_000, 500_000_000)
        else:
            source, mount = f"/dev/sd{'bcdefgh'[index // 6 % 7]}1", f"/mnt/backup{index // 6}"
            size = rng.randrange(200_000_000, 2_000_000_000)
        share = rng.randrange(930, 990) / 1000 if index == fullest_at else rng.randrange(1, 880) / 1000
        used = int(size * share)
        avail = size - used
        percent = -(-used * 100 // size)  # df rounds up
        yield (f"{source:<28} {_human(size):>5} {_human(used):>5} {_human(avail):>5} {percent:>3}% {mount}\n")


# -- git log ------------------------------------------------------------------------------------------------------

_AUTHORS = [("Dana Okafor", "dana@okafor.dev", 30), ("Priya Raman", "priya.raman@example.com", 22),
            ("Tomás Ferreira", "tomas@ferreira.pt", 18), ("Lena Vogel", "lena.vogel@example.de", 14),
            ("Kenji Watanabe", "kenji@watanabe.jp", 10), ("Sam Carter", "sam@carter.io", 6)]
_SUBJECTS = ["Fix race in upload retry loop", "Bump pydantic from 2.6.{n} to 2.7.{m}",
             "Add pagination to /api/v2/orders", "Refactor OrderService.apply_discount", "Update README install steps",
             "Handle empty CSV export",
             "Cache product lookups for {n}s", "Remove dead code in jobs/mailer.py", "Fix flaky test_checkout_total",
             "Speed up search index rebuild ({n}% faster)"]
_ZONES = [timezone(timedelta(hours=1)), timezone(timedelta(hours=2)), timezone(timedelta(hours=-5)),
          timezone(timedelta(hours=9))]


def _git_log(rng: random.Random, records: int) -> Iterator[str]:
    """Commits newest first, a few hours to two days apart, ending at EPOCH."""
    moment = EPOCH
    names = [name for name, _, _ in _AUTHORS]
    weights = [weight for _, _, weight in _AUTHORS]
    emails = {name: email for name, email, _ in _AUTHORS}
    for _ in range(records):
        moment -= timedelta(seconds=rng.randrange(30 * 60, 2 * 24 * 3600))
        author = rng.choices(names, weights=weights)[0]
        local = moment.astimezone(rng.choice(_ZONES))
        subject = rng.choice(_SUBJECTS).format(n=rng.randrange(1, 90), m=rng.randrange(0, 9))
        yield (f"commit {_hex(rng, 40)}\nAuthor: {author} <{emails[author]}>\n"
               f"Date:   {local:%a %b} {local.day} {local:%H:%M:%S %Y %z}\n\n"
               f"    {subject} (#{rng.randrange(100, 999)})\n\n")


# -- users JSON ---------------------------------------------------------------------------------------------------

_FIRST = ["ana", "ben", "chen", "dara", "eli", "fatima", "goran", "hana", "ivan", "jules", "kofi", "lea", "mateo",
          "nadia", "omar", "pia", "quinn", "rosa", "sven", "tara"]


def _users_json(rng: random.Random, records: int) -> Iterator[str]:
    """Users with `"active": true|false` (about 30% inactive), pretty-printed the way an API dump is."""
    yield '{\n  "generated_at": "2024-05-14T09:00:00Z",\n  "users": [\n'
    for index in range(records):
        name = f"{rng.choice(_FIRST)}.{_hex(rng, 4)}"
        active = rng.random() >= 0.3
        last_login = (EPOCH - timedelta(minutes=rng.randrange(10, 200 * 24 * 60))).strftime("%Y-%m-%dT%H:%M:%SZ")
        user = {"id": 1000 + index * 7 + rng.randrange(7), "username": name, "email": f"{name}@example.org",
                "active": active, "last_login": last_login, "roles": rng.sample(["admin", "editor", "viewer",
                                                                                 "billing"], rng.randrange(1, 3)),
                "quota_mb": rng.choice([512, 1024, 2048, 5120])}
        text = json.dumps(user, ensure_ascii=False)
        yield f"    {text}{',' if index < records - 1 else ''}\n"
    yield "  ]\n}\n"


GENERATORS: dict[InputKind, Callable[[random.Random, int], Iterator[str]]] = {
    InputKind.DMESG: _dmesg,
    InputKind.APP_LOG: _app_log,
    InputKind.ACCESS_LOG: _access_log,
    InputKind.SALES_CSV: _sales_csv,
    InputKind.PS_AUX: _ps_aux,
    InputKind.DF_H: _df_h,
    InputKind.GIT_LOG: _git_log,
    InputKind.USERS_JSON: _users_json,
}
