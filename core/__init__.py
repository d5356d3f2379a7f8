"""Switchboard core: the domain, its ports, the services that use them, and the adapters
(storage, bus) that implement the ports. Nothing here knows about a channel's protocol."""
