"""Titles and units of the system metrics the wandb client sends (`system.gpu.0.temp`,
`system.proc.memory.rssMB`, ...), for the run page's System charts and their chart data."""

import re
from dataclasses import dataclass

PREFIX = "system."

# The client's key patterns (without "system.") -> title and unit; named groups fill the title.
# First match wins. Units follow the client: memory in MB, disk I/O in MB, network in bytes.
PATTERNS = [
    (r"cpu", "Process CPU utilisation", "%"),
    (r"cpu\.(?P<n>\d+)\.cpu_percent", "CPU {n} utilisation", "%"),
    (r"proc\.cpu\.threads", "Process threads", ""),
    (r"memory_percent|memory", "System memory used", "%"),
    (r"proc\.memory\.rssMB", "Process memory", "MB"),
    (r"proc\.memory\.percent", "Process memory", "%"),
    (r"proc\.memory\.availableMB", "Memory available", "MB"),
    (r"disk\.(?P<path>.+)\.usagePercent", "Disk {path} used", "%"),
    (r"disk\.(?P<path>.+)\.usageGB", "Disk {path} used", "GB"),
    (r"disk\.in", "Disk read", "MB"),
    (r"disk\.out", "Disk written", "MB"),
    (r"network\.sent", "Network sent", "bytes"),
    (r"network\.recv", "Network received", "bytes"),
    (r"gpu\.(?P<n>\d+)\.gpu", "GPU {n} utilisation", "%"),
    (r"gpu\.(?P<n>\d+)\.memory", "GPU {n} memory utilisation", "%"),
    (r"gpu\.(?P<n>\d+)\.memoryAllocated", "GPU {n} memory allocated", "%"),
    (r"gpu\.(?P<n>\d+)\.memoryAllocatedBytes", "GPU {n} memory allocated", "bytes"),
    (r"gpu\.(?P<n>\d+)\.memoryUsed", "GPU {n} memory used", "bytes"),
    (r"gpu\.(?P<n>\d+)\.temp", "GPU {n} temperature", "°C"),
    (r"gpu\.(?P<n>\d+)\.powerWatts", "GPU {n} power", "W"),
    (r"gpu\.(?P<n>\d+)\.powerPercent", "GPU {n} power", "%"),
    (r"gpu\.(?P<n>\d+)\.enforcedPowerLimitWatts", "GPU {n} power limit", "W"),
    (r"gpu\.(?P<n>\d+)\.(?P<clock>sm|memory|graphics)Clock", "GPU {n} {clock} clock", "MHz"),
    (r"gpu\.(?P<n>\d+)\.fanSpeed", "GPU {n} fan speed", "%"),
    (r"gpu\.(?P<n>\d+)\.encoderUtilization", "GPU {n} encoder utilisation", "%"),
    (r"gpu\.(?P<n>\d+)\.correctedMemoryErrors", "GPU {n} corrected memory errors", ""),
    (r"gpu\.(?P<n>\d+)\.uncorrectedMemoryErrors", "GPU {n} uncorrected memory errors", ""),
    (r"gpu\.process\.(?P<n>\d+)\.gpu", "GPU {n} utilisation by the run", "%"),
    (r"gpu\.process\.(?P<n>\d+)\.memory", "GPU {n} memory utilisation by the run", "%"),
    (r"gpu\.process\.(?P<n>\d+)\.memoryAllocated", "GPU {n} memory allocated by the run", "%"),
    (r"gpu\.process\.(?P<n>\d+)\.temp", "GPU {n} temperature", "°C"),
    (r"gpu\.process\.(?P<n>\d+)\.powerWatts", "GPU {n} power", "W"),
]
COMPILED = [(re.compile(pattern), title, unit) for pattern, title, unit in PATTERNS]


@dataclass(frozen=True)
class SystemMetric:
    key: str
    title: str
    unit: str

    @property
    def label(self) -> str:
        """ "GPU 0 temperature (°C)"; the title alone for a count."""
        return f"{self.title} ({self.unit})" if self.unit else self.title


def system_metric(key: str) -> SystemMetric:
    """The title and unit of a system metric key; an unknown key is its own title."""
    name = key.removeprefix(PREFIX)
    for pattern, title, unit in COMPILED:
        match = pattern.fullmatch(name)
        if match:
            return SystemMetric(key, title.format(**match.groupdict()), unit)
    return SystemMetric(key, name, "")
