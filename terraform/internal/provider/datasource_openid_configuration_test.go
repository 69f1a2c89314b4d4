package provider

import (
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
)

func TestAccOpenIDConfigurationDataSource(t *testing.T) {
	testAccPreCheck(t)
	issuer := accServer.URL + "/oidc"
	const address = "data.interim_openid_configuration.interim"
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProviders,
		Steps: []resource.TestStep{
			{
				Config: exampleConfig(t, "data-sources/interim_openid_configuration/data-source.tf"),
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr(address, "issuer", issuer),
					resource.TestCheckResourceAttr(address, "discovery_url", issuer+"/.well-known/openid-configuration"),
					resource.TestCheckResourceAttr(address, "authorization_endpoint", issuer+"/auth"),
					resource.TestCheckResourceAttr(address, "token_endpoint", issuer+"/token"),
					resource.TestCheckResourceAttr(address, "userinfo_endpoint", issuer+"/me"),
					resource.TestCheckResourceAttr(address, "jwks_uri", issuer+"/jwks"),
					resource.TestCheckResourceAttr(address, "end_session_endpoint", issuer+"/session/end"),
					resource.TestCheckResourceAttr(address, "introspection_endpoint", issuer+"/token/introspection"),
					resource.TestCheckResourceAttr(address, "revocation_endpoint", issuer+"/token/revocation"),
					resource.TestCheckTypeSetElemAttr(address, "scopes_supported.*", "openid"),
					resource.TestCheckTypeSetElemAttr(address, "grant_types_supported.*", "authorization_code"),
					resource.TestCheckTypeSetElemAttr(address, "token_endpoint_auth_methods_supported.*", "client_secret_basic"),
					resource.TestCheckOutput("oidc_issuer", issuer),
					resource.TestCheckOutput("oidc_jwks_uri", issuer+"/jwks"),
				),
			},
		},
	})
}
