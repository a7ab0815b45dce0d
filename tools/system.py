"""Read-only system facts: CPU, memory, disks, network, OS, uptime, battery and temperature sensors.

One part in detail, or (`all`) a compact summary of every part: the summary is what a small model reads most
often, so it carries short human strings and few numbers.
"""

from __future__ import annotations

import os
import platform
import socket
import time
from collections.abc import Callable
from typing import Any, Literal

import psutil
from llmos.tools._format import human_duration, human_size, iso_time
from llmos.tools.registry import tool

from llmos.effects import Effect

NOT_AVAILABLE = "not available"
CPU_SAMPLE_SECONDS = 0.2
# File systems that are images, layers or kernel views rather than disks a person fills.
_PSEUDO_FILESYSTEMS = frozenset(
    {"squashfs", "overlay", "tmpfs", "devtmpfs", "proc", "sysfs", "cgroup", "cgroup2", "devpts", "autofs",
     "fuse.snapfuse", "fuse.portal", "fuse.gvfsd-fuse", "nsfs", "tracefs", "debugfs", "ramfs", "iso9660"}
)  # fmt: skip
_PSEUDO_MOUNT_PREFIXES = ("/snap/", "/var/snap/", "/proc", "/sys", "/dev", "/run/", "/var/lib/docker/", "/boot/efi")

Part = Literal["all", "cpu", "memory", "disk", "network", "os", "battery", "sensors", "uptime"]


@tool("system.info", Effect.READ)
def system_info(part: Part = "all") -> dict[str, Any]:
    """Show system facts: CPU, memory, disks, network, OS, uptime, battery.

    Args:
        part: all (a summary), cpu, memory, disk, network, os, battery, sensors or uptime.
    """
    if part == "all":
        return _summary()
    return {part: _PARTS[part]()}


def _cpu() -> dict[str, Any]:
    frequency = _optional(psutil.cpu_freq)
    return {
        "model": _cpu_model(),
        "logical": psutil.cpu_count(),
        "physical": psutil.cpu_count(logical=False),
        "percent": psutil.cpu_percent(interval=CPU_SAMPLE_SECONDS),
        "load_average": [round(load, 2) for load in psutil.getloadavg()],
        "frequency_mhz": round(frequency.current) if frequency and frequency.current else None,
        "max_frequency_mhz": round(frequency.max) if frequency and frequency.max else None,
    }


def _memory() -> dict[str, Any]:
    memory = psutil.virtual_memory()
    swap = psutil.swap_memory()
    return {
        "total": memory.total,
        "used": memory.used,
        "available": memory.available,
        "percent": memory.percent,
        "human": (
            f"{human_size(memory.used)} used of {human_size(memory.total)}, {human_size(memory.available)} available"
        ),
        "swap": {
            "total": swap.total,
            "used": swap.used,
            "free": swap.free,
            "percent": swap.percent,
            "human": f"{human_size(swap.used)} used of {human_size(swap.total)}" if swap.total else "no swap",
        },
    }


def _disks() -> list[dict[str, Any]]:
    """Each real mounted file system once: no snaps, loop images, overlays or kernel views (the root file system
    always, even when it is an overlay inside a container)."""
    disks: list[dict[str, Any]] = []
    seen_devices: set[str] = set()
    partitions = sorted(psutil.disk_partitions(all=False), key=lambda part: len(part.mountpoint))
    for partition in partitions:
        is_root = partition.mountpoint == "/"
        pseudo = (
            partition.fstype in _PSEUDO_FILESYSTEMS
            or partition.device.startswith("/dev/loop")
            or partition.mountpoint.startswith(_PSEUDO_MOUNT_PREFIXES)
        )
        if (pseudo and not is_root) or partition.device in seen_devices or not os.path.isdir(partition.mountpoint):
            continue
        try:
            usage = psutil.disk_usage(partition.mountpoint)
        except OSError:
            continue
        seen_devices.add(partition.device)
        disks.append(
            {
                "mount": partition.mountpoint,
                "device": partition.device,
                "fs": partition.fstype,
                "total": usage.total,
                "used": usage.used,
                "free": usage.free,
                "percent": usage.percent,
                "human": f"{human_size(usage.free)} free of {human_size(usage.total)}",
            }
        )
    return disks


def _network() -> dict[str, Any]:
    """Per interface (loopback left out): whether it is up, its addresses and bytes sent and received."""
    addresses = psutil.net_if_addrs()
    stats = psutil.net_if_stats()
    counters = psutil.net_io_counters(pernic=True)
    interfaces: dict[str, Any] = {}
    for interface, entries in addresses.items():
        if (
            interface == "lo"
            or interface.startswith("lo0")
            or (stats.get(interface) and "loopback" in stats[interface].flags)
        ):
            continue
        described: dict[str, Any] = {"up": stats[interface].isup if interface in stats else None}
        for family, label in ((socket.AF_INET, "ipv4"), (socket.AF_INET6, "ipv6")):
            found = [entry.address.split("%")[0] for entry in entries if entry.family == family]
            if found:
                described[label] = found
        mac = next((entry.address for entry in entries if entry.family == psutil.AF_LINK), None)
        if mac:
            described["mac"] = mac
        if interface in counters:
            sent, received = counters[interface].bytes_sent, counters[interface].bytes_recv
            described.update(
                bytes_sent=sent,
                bytes_received=received,
                human=f"{human_size(sent)} sent, {human_size(received)} received",
            )
        interfaces[interface] = described
    return interfaces


def _os() -> dict[str, Any]:
    try:
        distribution = platform.freedesktop_os_release().get("PRETTY_NAME")
    except OSError:
        distribution = None
    return {
        "system": platform.system(),
        "release": platform.release(),
        "distribution": distribution or platform.platform(terse=True),
        "machine": platform.machine(),
        "hostname": socket.gethostname(),
    }


def _uptime() -> dict[str, Any]:
    boot_time = psutil.boot_time()
    seconds = max(0, int(time.time() - boot_time))
    return {"boot_time": iso_time(boot_time), "seconds": seconds, "human": human_duration(seconds)}


def _battery() -> dict[str, Any] | str:
    battery = _optional(getattr(psutil, "sensors_battery", None))
    if battery is None:
        return NOT_AVAILABLE
    result: dict[str, Any] = {"percent": round(battery.percent, 1), "plugged_in": battery.power_plugged}
    if battery.secsleft not in (psutil.POWER_TIME_UNLIMITED, psutil.POWER_TIME_UNKNOWN) and battery.secsleft >= 0:
        result["time_left"] = human_duration(battery.secsleft)
    return result


def _sensors() -> dict[str, Any] | str:
    """Temperatures (°C) and fan speeds (RPM) by sensor, where the platform exposes them."""
    temperatures = _optional(getattr(psutil, "sensors_temperatures", None)) or {}
    fans = _optional(getattr(psutil, "sensors_fans", None)) or {}
    if not temperatures and not fans:
        return NOT_AVAILABLE
    result: dict[str, Any] = {}
    if temperatures:
        result["temperatures"] = {
            sensor: [
                {
                    "label": reading.label or sensor,
                    "current": reading.current,
                    "high": reading.high,
                    "critical": reading.critical,
                }
                for reading in readings
            ]
            for sensor, readings in temperatures.items()
        }
    if fans:
        result["fans"] = {
            sensor: [{"label": fan.label or sensor, "rpm": fan.current} for fan in readings]
            for sensor, readings in fans.items()
        }
    return result


_PARTS: dict[str, Callable[[], Any]] = {
    "cpu": _cpu,
    "memory": _memory,
    "disk": _disks,
    "network": _network,
    "os": _os,
    "uptime": _uptime,
    "battery": _battery,
    "sensors": _sensors,
}


def _summary() -> dict[str, Any]:
    """Every part in a line or two: enough for "how is my machine doing?" without a second call."""
    os_facts = _os()
    cpu = _cpu()
    memory = _memory()
    sensors = _sensors()
    temperatures = [
        reading["current"]
        for readings in (sensors.get("temperatures", {}) if isinstance(sensors, dict) else {}).values()
        for reading in readings
    ]
    return {
        "os": f"{os_facts['distribution']}; {os_facts['system']} {os_facts['release']} {os_facts['machine']}",
        "hostname": os_facts["hostname"],
        "uptime": _uptime()["human"],
        "cpu": {
            "model": cpu["model"],
            "cores": cpu["logical"],
            "percent": cpu["percent"],
            "load_average": cpu["load_average"],
        },
        "memory": {"percent": memory["percent"], "human": memory["human"]},
        "swap": {"percent": memory["swap"]["percent"], "human": memory["swap"]["human"]},
        "disks": [{"mount": disk["mount"], "percent": disk["percent"], "human": disk["human"]} for disk in _disks()],
        "network": {
            interface: (described.get("ipv4") or described.get("ipv6") or ["no address"])[0]
            for interface, described in _network().items()
            if described.get("up")
        },
        "battery": _battery(),
        "max_temperature_c": max(temperatures) if temperatures else NOT_AVAILABLE,
    }


def _cpu_model() -> str | None:
    """The CPU's marketing name: /proc/cpuinfo on Linux, otherwise what `platform` knows."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as cpuinfo:
            for line in cpuinfo:
                if line.startswith(("model name", "Hardware", "Processor")) and ":" in line:
                    return line.split(":", 1)[1].strip() or None
    except OSError:
        pass
    return platform.processor() or None


def _optional(read: Callable[[], Any] | None) -> Any:
    """A psutil reading that some platforms lack or fail on: None instead of an error."""
    if read is None:
        return None
    try:
        return read()
    except (OSError, RuntimeError, NotImplementedError, psutil.Error):
        return None
