# The loopback plan of examples/backends (npm run backends -- agfa). The tests deploy with
# this file.
core_vip_address = "127.0.50.100"
web_vip_address  = "127.0.50.101"

core_servers = [
  { label = "CORE1", address = "127.0.50.11" },
  { label = "CORE2", address = "127.0.50.12" },
]

web_servers = [
  { label = "WEB1", address = "127.0.50.21" },
  { label = "WEB2", address = "127.0.50.22" },
]
