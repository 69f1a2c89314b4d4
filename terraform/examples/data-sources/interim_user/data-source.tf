data "interim_user" "carol" {
  email = "carol@example.com"
}

output "carol_is_admin" {
  value = data.interim_user.carol.is_admin
}
