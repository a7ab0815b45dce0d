"""Answers about the machine rendered from `system.info`, `system.health`, `process.list` and `process.info`
results: the same words the fast path says, and the fallback when a model's answer states what no result holds."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from llmos.answers._result import (
    named_list,
    parsed_result,
    percent_text,
    plural,
    reads_result,
    records,
    size_text,
)
from llmos.tools.system import NOT_AVAILABLE


@reads_result
def render_memory(result: dict[str, Any]) -> str:
    """Available, used and total memory (RAM), and swap when there is any."""
    memory = result["memory"]
    answer = (
        f"{size_text(memory['available'])} of memory (RAM) is available: {size_text(memory['used'])} used of "
        f"{size_text(memory['total'])} ({percent_text(memory['percent'])} in use)."
    )
    swap = memory.get("swap")
    if isinstance(swap, dict) and swap.get("total"):
        answer += f" Swap: {size_text(swap['used'])} used of {size_text(swap['total'])}."
    return answer


@reads_result
def render_disk(result: dict[str, Any]) -> str:
    """Free space of each disk: free, total and percent used."""
    disks = records(result["disk"])
    if not disks:
        return "No disks were found."
    described = [
        f"{disk['mount']}: {size_text(disk['free'])} free of {size_text(disk['total'])} "
        f"({percent_text(disk['percent'])} used)"
        for disk in disks
    ]
    if len(described) == 1:
        return f"Free disk space on {described[0]}."
    return "Free disk space:\n" + "\n".join(f"- {line}" for line in described)


@reads_result
def render_uptime(result: dict[str, Any]) -> str:
    """How long since boot, in words, and when that was."""
    uptime = result["uptime"]
    answer = f"The system has been up for {_duration_words(int(uptime['seconds']))}"
    boot_time = uptime.get("boot_time")
    if isinstance(boot_time, str):
        try:
            answer += f" (since {datetime.fromisoformat(boot_time):%Y-%m-%d %H:%M})"
        except ValueError:
            pass
    return answer + "."


def _duration_words(seconds: int) -> str:
    """`9533` -> "2 hours 38 minutes"; under a minute: "less than a minute"."""
    days, rest = divmod(max(0, seconds), 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    parts = [plural(amount, unit) for amount, unit in ((days, "day"), (hours, "hour"), (minutes, "minute")) if amount]
    return " ".join(parts) if parts else "less than a minute"


@reads_result
def render_health(result: dict[str, Any]) -> str:
    """What stands out, the processes behind it, and what can be done (as requests llmos can carry out)."""
    findings = records(result["findings"])
    if not findings:
        cpu, memory = result["cpu"], result["memory"]
        return (f"Nothing stands out right now: the CPU is {percent_text(cpu['percent'])} busy and memory "
                f"{percent_text(memory['percent'])} used ({memory['available']} available).")
    sentences = [str(finding["text"]) for finding in findings]
    answer = sentences[0][0].upper() + sentences[0][1:] + "."
    if len(sentences) > 1:
        answer += " Also: " + "; ".join(sentences[1:]) + "."
    hog = next((finding for finding in findings if finding.get("kind") == "cpu_hog"), None)
    if hog is not None:
        answer += (f" I can lower its priority (\"renice {hog['name']}\"), pause it or stop it"
                   f" (\"stop {hog['name']}\") if you ask.")
    elif any(finding.get("kind") == "disk_full" for finding in findings):
        answer += " Ask \"what is taking up space in my home?\" to find what to clear."
    return answer


@reads_result
def render_cpu(result: dict[str, Any]) -> str:
    """Core counts, the CPU model, and how busy it is now."""
    cpu = result["cpu"]
    logical, physical = cpu.get("logical"), cpu.get("physical")
    if logical is None:
        raise ValueError("no core count")
    cores = plural(int(logical), "CPU core")
    if physical and physical != logical:
        cores = f"{plural(int(logical), 'logical CPU core')} ({physical} physical)"
    answer = f"This machine has {cores}"
    if cpu.get("model"):
        answer += f": {cpu['model']}"
    if cpu.get("frequency_mhz"):
        answer += f" at {cpu['frequency_mhz']} MHz"
    answer += "."
    busy: list[str] = []
    if cpu.get("percent") is not None:
        busy.append(f"{percent_text(cpu['percent'])} busy")
    if cpu.get("load_average"):
        busy.append(f"load average {', '.join(str(load) for load in cpu['load_average'])}")
    if busy:
        answer += f" Right now: {', '.join(busy)}."
    return answer


@reads_result
def render_os(result: dict[str, Any]) -> str:
    """Distribution, kernel, architecture and hostname."""
    os_facts = result["os"]
    return (
        f"{os_facts['distribution']} ({os_facts['system']} {os_facts['release']}, {os_facts['machine']}); "
        f"hostname: {os_facts['hostname']}."
    )


@reads_result
def render_processes(result: dict[str, Any]) -> str:
    """The busiest processes, one per line, with the measure they were sorted by first."""
    processes = records(result["processes"])
    if not processes:
        return "No processes were found."
    by_memory = result.get("sort") == "memory"
    heading = f"Top {len(processes)} processes by {'memory' if by_memory else 'CPU'}"
    if isinstance(result.get("total"), int):
        heading += f" (of {result['total']} running)"
    lines = [f"{heading}:"]
    for rank, process in enumerate(processes, start=1):
        memory = _process_memory(process)
        cpu = f"{percent_text(process['cpu_percent'])} CPU" if process.get("cpu_percent") is not None else "CPU unknown"
        measures = f"{memory}, {cpu}" if by_memory else f"{cpu}, {memory}"
        name = process.get("name") or f"pid {process['pid']}"
        lines.append(f"{rank}. {name} (pid {process['pid']}): {measures}")
    return "\n".join(lines)


def _process_memory(process: dict[str, Any]) -> str:
    rss = process.get("rss_human") or process.get("rss")
    if rss is None:
        return "memory unknown"
    memory = f"{size_text(rss)} memory"
    if process.get("memory_percent") is not None:
        memory += f" ({percent_text(process['memory_percent'])})"
    return memory


_FAST_PATH_PARTS = {"memory": render_memory, "disk": render_disk, "uptime": render_uptime, "cpu": render_cpu,
                    "os": render_os}

# Which summary sections a request asks about; a request that names none gets every section.
SECTION_WORDS = {
    "hostname": r"host ?name|computer name|machine name|name of (?:this|my|the) (?:computer|machine)",
    "os": r"\bos\b|operating system|distro|distribution|kernel|linux|version",
    "uptime": r"uptime|\bup\b|boot",
    "cpu": r"cpu|processor|cores?\b|load",
    "memory": r"memory|\bram\b",
    "swap": r"swap",
    "disks": r"disk|storage|space|drive",
    "network": r"network|\bip\b|address|interface|wifi|internet",
    "battery": r"battery|charge|power|plugged",
    "max_temperature_c": r"temperature|\bhot\b|heat|\btemp\b",
}


def answer_system_info(result_text: str, args: dict[str, Any], request: str) -> str | None:
    """system.info: one part in the fast path's words, or, for the summary, each section it returned (only those
    the request asks about, when it names any: "what is the hostname?" gets the hostname)."""
    result = parsed_result(result_text)
    if result is None:
        return None
    part = str(args.get("part") or "all")
    if part in _FAST_PATH_PARTS:
        return _FAST_PATH_PARTS[part](result_text)
    if part == "network":
        return _network_sentence(result["network"]) or "No network interface is up."
    if part == "battery":
        return _battery_sentence(result["battery"]) or "No battery was found."
    if part == "sensors":
        return _sensors_sentence(result["sensors"]) or "No temperature or fan sensors were found."
    asked = [section for section, words in SECTION_WORDS.items()
             if section in result and re.search(words, request, re.IGNORECASE)]
    sentences = [sentence for section in (asked or list(SECTION_WORDS)) if section in result
                 if (sentence := _summary_sentence(section, result[section]))]
    return " ".join(sentences) or None


def _summary_sentence(section: str, value: Any) -> str | None:
    if value is None or value == NOT_AVAILABLE:
        return None
    if section == "hostname":
        return f"The hostname is {value}."
    if section == "os":
        return f"Operating system: {value}."
    if section == "uptime":
        return f"Up for {value} (hours:minutes)." if ":" in str(value) else f"Up for {value}."
    if section == "cpu":
        model = f"{value['model']}, " if value.get("model") else ""
        return f"CPU: {model}{plural(int(value['cores']), 'core')}, {percent_text(value['percent'])} busy."
    if section == "swap" and value.get("human") == "no swap":
        return "No swap."
    if section in ("memory", "swap"):
        return f"{section.capitalize()}: {value['human']} ({percent_text(value['percent'])} used)."
    if section == "disks":
        disks = records(value) if value else []
        described = [f"{disk['mount']} {disk['human']} ({percent_text(disk['percent'])} used)" for disk in disks]
        return f"Disks: {'; '.join(described)}." if described else None
    if section == "network":
        addresses = [f"{interface} {address}" for interface, address in value.items()] if value else []
        return f"Network: {', '.join(addresses)}." if addresses else None
    if section == "battery":
        return _battery_sentence(value)
    if section == "max_temperature_c":
        return f"The hottest sensor reads {value:g}°C."
    return None


def _network_sentence(interfaces: dict[str, Any]) -> str | None:
    described = []
    for interface, facts in interfaces.items():
        addresses = (facts.get("ipv4") or []) + (facts.get("ipv6") or [])
        state = "up" if facts.get("up") else "down"
        described.append(f"{interface} ({state}{', ' + ', '.join(addresses) if addresses else ''})")
    return f"Network interfaces: {'; '.join(described)}." if described else None


def _battery_sentence(battery: Any) -> str | None:
    if not isinstance(battery, dict):
        return None
    plugged = ", plugged in" if battery.get("plugged_in") else ", on battery"
    left = f", {battery['time_left']} left" if battery.get("time_left") else ""
    return f"Battery: {percent_text(battery['percent'])}{plugged}{left}."


def _sensors_sentence(sensors: Any) -> str | None:
    if not isinstance(sensors, dict):
        return None
    readings = [reading for group in (sensors.get("temperatures") or {}).values() for reading in records(group)]
    if not readings:
        return None
    hottest = max(readings, key=lambda reading: float(reading["current"]))
    return f"The hottest sensor, {hottest['label']}, reads {float(hottest['current']):g}°C."


def answer_process_list(result_text: str, args: dict[str, Any], request: str) -> str | None:
    """process.list: the fast path's "top processes" words when sorted by CPU or memory; for a name filter, how
    many processes match (the tool's count) and which."""
    result = parsed_result(result_text)
    if result is None:
        return None
    if "matching" not in result and result.get("sort") in ("cpu", "memory"):
        return render_processes(result_text)
    processes = records(result["processes"]) if result.get("processes") else []
    named = [f"{process.get('name') or 'pid ' + str(process['pid'])} (pid {process['pid']})" for process in processes]
    if "matching" in result:
        count = int(result["matching"])
        if count == 0:
            return f'No running process matches "{args.get("name")}".'
        return (f'{plural(count, "process", "processes")} match "{args.get("name")}": '
                f"{named_list(named, count, len(named))}.")
    total = int(result["total"])
    return f"{plural(total, 'process', 'processes')} are running: {named_list(named, total, len(named))}."


def answer_process_info(result_text: str, args: dict[str, Any], request: str) -> str | None:
    """process.info: who runs it, its state, CPU and memory, and since when."""
    result = parsed_result(result_text)
    if result is None:
        return None
    answer = f"{result['name']} (pid {result['pid']})"
    if result.get("status"):
        answer += f" is {result['status']}"
    if result.get("user"):
        answer += f", run by {result['user']}"
    measures = []
    if result.get("cpu_percent") is not None:
        measures.append(f"{percent_text(result['cpu_percent'])} CPU")
    if result.get("rss") is not None:
        measures.append(_process_memory(result))
    if measures:
        answer += f": {', '.join(measures)}"
    if result.get("started"):
        answer += f"; started {result['started']}"
    return answer + "."
