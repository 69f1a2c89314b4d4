resource "interim_group" "on_call_leads" {
  name        = "On-call leads"
  description = "Engineers who lead the incident response rota."
}
