# The loopback plan of examples/backends (npm run backends -- insignia). The tests deploy
# with this file.
load_balanced_vip_address = "127.0.60.100"
failover_vip_address      = "127.0.60.101"

servers = [
  { label = "SERVER1", address = "127.0.60.11" },
  { label = "SERVER2", address = "127.0.60.12" },
]

# On loopback the appliance and the servers share one host and one address space: there is
# no Ethernet segment to forward on and no server that could hold the VIP apart from the
# appliance, so layer 4 direct routing cannot work here. The loopback plan carries DICOM as
# a layer 7 TCP VIP; a real site keeps the guide's direct routing (the default).
dicom_forwarding = "proxy"
