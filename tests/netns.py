"""Test hosts as Linux network namespaces on one private bridge: several hosts on one machine, for tests of what
crosses a network. Nothing outside these namespaces (and no address of the machine itself) is ever contacted;
everything is deleted at the end."""

from __future__ import annotations

import subprocess
import uuid
from dataclasses import dataclass, field

SUBNET = "10.231.0"


def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True, text=True)


@dataclass
class Host:
    """One test host: a namespace with an address on the bridge, and its own host name for what it runs."""

    name: str
    namespace: str
    address: str

    def command(self, *argv: str) -> list[str]:
        """``argv`` run inside this host: its network, and its host name (a UTS namespace of its own)."""
        script = f'hostname {self.name} && exec "$@"'
        return ["ip", "netns", "exec", self.namespace, "unshare", "--uts", "sh", "-c", script, "sh", *argv]


@dataclass
class PrivateNetwork:
    """A switch (a namespace holding a bridge) and the hosts plugged into it."""

    prefix: str = field(default_factory=lambda: f"pl{uuid.uuid4().hex[:6]}")
    hosts: list[Host] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.switch = f"{self.prefix}-sw"
        _ip("netns", "add", self.switch)
        _ip("-n", self.switch, "link", "add", "br0", "type", "bridge")
        _ip("-n", self.switch, "link", "set", "br0", "up")

    def add_host(self, name: str, last_octet: int) -> Host:
        namespace = f"{self.prefix}-{name}"
        outside, inside = f"{self.prefix[-4:]}{name[:5]}o", f"{self.prefix[-4:]}{name[:5]}i"
        _ip("netns", "add", namespace)
        _ip("link", "add", outside, "type", "veth", "peer", "name", inside)
        _ip("link", "set", outside, "netns", self.switch)
        _ip("link", "set", inside, "netns", namespace)
        _ip("-n", self.switch, "link", "set", outside, "master", "br0")
        _ip("-n", self.switch, "link", "set", outside, "up")
        _ip("-n", namespace, "link", "set", inside, "name", "eth0")
        _ip("-n", namespace, "link", "set", "lo", "up")
        _ip("-n", namespace, "link", "set", "eth0", "up")
        address = f"{SUBNET}.{last_octet}"
        _ip("-n", namespace, "addr", "add", f"{address}/24", "dev", "eth0")
        host = Host(name, namespace, address)
        self.hosts.append(host)
        return host

    def teardown(self) -> None:
        """Delete every namespace (their interfaces go with them)."""
        for namespace in [h.namespace for h in self.hosts] + [self.switch]:
            subprocess.run(["ip", "netns", "del", namespace], capture_output=True, check=False)
