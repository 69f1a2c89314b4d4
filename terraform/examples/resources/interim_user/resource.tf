# The initial password is write-only: pass it from an ephemeral variable (or an ephemeral
# resource such as a password generator) so it never lands in the state or the plan.
variable "alice_initial_password" {
  type      = string
  sensitive = true
  ephemeral = true
}

resource "interim_user" "alice" {
  email            = "alice@example.com"
  name             = "Alice Example"
  is_admin         = false
  initial_password = var.alice_initial_password
}
