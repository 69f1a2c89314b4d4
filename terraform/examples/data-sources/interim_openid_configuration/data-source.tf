# What a relying party needs to trust Interim's tokens.
data "interim_openid_configuration" "interim" {}

output "oidc_issuer" {
  value = data.interim_openid_configuration.interim.issuer
}

output "oidc_jwks_uri" {
  value = data.interim_openid_configuration.interim.jwks_uri
}
