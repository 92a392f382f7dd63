"""The lab: a world for axelabs.onboard to act on when no real one is at hand.

Customer hosts (Mac mini stand-ins with their own Docker engine, reached over real SSH) and,
in later layers, the emulators of Cloudflare, the vault and Tailscale. The collection never
imports this package; the product reaches the lab only through ordinary settings (an SSH
config, URLs, tokens), the same ones that point it at the real world.
"""
