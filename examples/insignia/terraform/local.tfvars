# The loopback plan of examples/backends (npm run backends -- insignia). The tests deploy
# with this file.
load_balanced_vip_address = "127.0.60.100"
failover_vip_address      = "127.0.60.101"

servers = [
  { label = "SERVER1", address = "127.0.60.11" },
  { label = "SERVER2", address = "127.0.60.12" },
]
