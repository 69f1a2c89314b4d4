package provider

import (
	"context"
	"fmt"
	"regexp"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
)

// exactlyOneError matches OpenTofu's output when its only error is the one with this summary and
// a detail containing detailWord (one word: OpenTofu wraps long lines): a bad provider setting must
// not turn into one failure per resource.
func exactlyOneError(summary, detailWord string) *regexp.Regexp {
	// Any text in which no second "Error:" starts (RE2 has no lookahead).
	noOtherError := `(?s:(?:[^E]|E[^r]|Er[^r]|Err[^o]|Erro[^r]|Error[^:])*)`
	return regexp.MustCompile(`\A(?s:.*?)Error: ` + regexp.QuoteMeta(summary) + noOtherError + regexp.QuoteMeta(detailWord) + noOtherError + `\z`)
}

// twoObjects plans a data source and two resources, so that an error per object would show.
func twoObjects(provider string) string {
	return testConfig(provider + `
data "interim_openid_configuration" "oidc" {}

resource "interim_group" "a" {
  name = "provider check a"
}

resource "interim_group" "b" {
  name = "provider check b"
}
`)
}

func TestAccProvider_unreachableServer(t *testing.T) {
	port, err := freePort() // nothing listens there
	if err != nil {
		t.Fatal(err)
	}
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProviders,
		Steps: []resource.TestStep{{
			Config: twoObjects(fmt.Sprintf(`
provider "interim" {
  endpoint = "http://127.0.0.1:%d"
}
`, port)),
			PlanOnly:    true,
			ExpectError: exactlyOneError("Cannot reach the Interim server", "refused"),
		}},
	})
}

func TestAccProvider_badToken(t *testing.T) {
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProviders,
		Steps: []resource.TestStep{{
			Config: twoObjects(`
provider "interim" {
  token = "itk_not-a-token-interim-ever-issued"
}
`),
			PlanOnly:    true,
			ExpectError: exactlyOneError("Interim rejected the API token", "INTERIM_TOKEN"),
		}},
	})
}

func TestAccProvider_nonAdminToken(t *testing.T) {
	testAccPreCheck(t)
	userID := createThroughAPI(t, "/api/v1/users", map[string]any{"email": "not-an-admin@example.com", "name": "Not an admin"})
	t.Cleanup(func() { deleteThroughAPI(t, "/api/v1/users/"+userID) })
	var issued struct {
		Token string `json:"token"`
	}
	body := map[string]any{"name": "terraform", "user_id": userID, "expires_at": time.Now().Add(24 * time.Hour).UTC().Format(time.RFC3339)}
	if err := accServer.Client.Post(context.Background(), "/api/v1/api-tokens", body, &issued); err != nil {
		t.Fatal(err)
	}
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProviders,
		Steps: []resource.TestStep{{
			Config: twoObjects(`
provider "interim" {
  token = "` + issued.Token + `"
}
`),
			PlanOnly:    true,
			ExpectError: exactlyOneError("Interim API token is not an admin's", "not-an-admin@example.com"),
		}},
	})
}

func TestAccProvider_endpointThatIsNotInterim(t *testing.T) {
	testAccPreCheck(t)
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProviders,
		Steps: []resource.TestStep{{
			// Interim's URL with a path: /oidc/api/v1/session does not exist.
			Config: twoObjects(`
provider "interim" {
  endpoint = "` + accServer.URL + `/oidc"
}
`),
			PlanOnly:    true,
			ExpectError: exactlyOneError("The endpoint is not an Interim server", "INTERIM_BASE_URL"),
		}},
	})
}
