# A group made in the portal, referred to by name.
data "interim_group" "security" {
  name = "Security team"
}

output "security_group_id" {
  value = data.interim_group.security.id
}
