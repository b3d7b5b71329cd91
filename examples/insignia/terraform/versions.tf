terraform {
  # The lbappliance provider speaks plugin protocol 6.9 (write-only attributes).
  required_version = ">= 1.11"

  required_providers {
    lbappliance = {
      source = "lbappliance/lbappliance"
    }
  }
}

# The appliance and its credentials come from the environment (LBAPPLIANCE_ENDPOINT,
# LBAPPLIANCE_PASSWORD, LBAPPLIANCE_CA_PEM or LBAPPLIANCE_INSECURE), so no secret sits in
# this directory.
provider "lbappliance" {}
