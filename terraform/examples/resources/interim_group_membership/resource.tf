resource "interim_group" "on_call" {
  name        = "On-call engineers"
  description = "Whoever carries the pager this month."
}

data "interim_user" "bob" {
  email = "bob@example.com"
}

# Bob is on call until the end of his rota; after expires_at Interim no longer counts him.
resource "interim_group_membership" "bob_on_call" {
  group_id   = interim_group.on_call.id
  user_id    = data.interim_user.bob.id
  expires_at = "2099-01-31T17:00:00Z"
}
