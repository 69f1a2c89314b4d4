terraform {
  required_providers {
    interim = {
      source = "interim-idp/interim"
    }
  }
}

# endpoint and token may also come from INTERIM_ENDPOINT and INTERIM_TOKEN.
provider "interim" {
  endpoint = "https://id.example.com"
  token    = var.interim_token
}

variable "interim_token" {
  description = "An API token of an Interim admin."
  type        = string
  sensitive   = true
}
