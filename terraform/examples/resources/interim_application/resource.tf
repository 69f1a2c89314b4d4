resource "interim_application" "prod_db" {
  name                         = "Production database console"
  description                  = "The SQL console of the production database."
  redirect_uris                = ["https://db-console.example.com/oidc/callback"]
  post_logout_redirect_uris    = ["https://db-console.example.com/"]
  grant_types                  = ["authorization_code", "refresh_token"]
  token_endpoint_auth_method   = "client_secret_basic"
  id_token_signed_response_alg = "ES256"
  access_token_ttl_secs        = 900
  id_token_ttl_secs            = 900
  refresh_token_ttl_secs       = 86400

  # OpenID Connect Back-Channel Logout: a logout token is POSTed here whenever a session ends.
  backchannel_logout_uri              = "https://db-console.example.com/oidc/backchannel-logout"
  backchannel_logout_session_required = true

  # Any value: changing it rotates the client secret on the next apply.
  client_secret_rotation = "2026-12"
}

# The secret is in the state (sensitive): hand it to the relying party from there.
output "prod_db_client_secret" {
  value     = interim_application.prod_db.client_secret
  sensitive = true
}
