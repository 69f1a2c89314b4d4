package provider

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
)

// delivery is one webhook POST the receiver got.
type delivery struct {
	id, timestamp, signature string
	body                     []byte
	eventType                string
}

// The signing secret the provider keeps in the state is the one Interim signs with: a real
// delivery verifies with it, first the generated one, then one of our own after a rotation.
func TestAccEventAction_webhookSignedWithTheStateSecret(t *testing.T) {
	testAccPreCheck(t)
	received := make(chan delivery, 16)
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var event struct {
			Type string `json:"type"`
		}
		_ = json.Unmarshal(body, &event)
		received <- delivery{r.Header.Get("webhook-id"), r.Header.Get("webhook-timestamp"), r.Header.Get("webhook-signature"), body, event.Type}
		w.WriteHeader(http.StatusNoContent)
	}))
	defer receiver.Close()

	// An open template for an application, so the admin can submit a request that fires the action.
	app := createThroughAPI(t, "/api/v1/applications", map[string]any{"name": "Webhook delivery app", "redirect_uris": []string{"https://delivery.example.com/cb"}})
	group := createThroughAPI(t, "/api/v1/groups", map[string]any{"name": "Webhook delivery holders"})
	mapping := createThroughAPI(t, "/api/v1/mappings", map[string]any{"app_id": app, "claim": "role", "value": "x", "group_ids": []string{group}})
	template := createThroughAPI(t, "/api/v1/access-request-templates", map[string]any{
		"name": "Webhook delivery", "app_id": app, "mapping_ids": []string{mapping}, "allowed_durations": []int{60},
		"require_justification": false, "approval": "open",
	})
	t.Cleanup(func() {
		// Best effort: the template keeps its (cancelled) request in its history.
		_ = accServer.Client.Delete(context.Background(), "/api/v1/access-request-templates/"+template)
		_ = accServer.Client.Delete(context.Background(), "/api/v1/applications/"+app)
		_ = accServer.Client.Delete(context.Background(), "/api/v1/groups/"+group)
	})

	generated := testConfig(fmt.Sprintf(`
resource "interim_event_action" "signed" {
  name        = "Signed delivery"
  event_types = ["access_request.submitted", "access_request.cancelled"]
  template_id = %q
  kind        = "webhook"
  webhook_url = %q
}
`, template, receiver.URL+"/hook"))
	own := replaceOnce(t, generated, `kind        = "webhook"`, `kind        = "webhook"`+"\n  webhook_signing_secret = \""+ownSigningSecret+"\"")
	const address = "interim_event_action.signed"
	var requestID string

	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProviders,
		CheckDestroy:             checkDestroyedInAPI("interim_event_action", "/api/v1/event-actions/"),
		Steps: []resource.TestStep{
			{
				Config: generated,
				Check: resource.ComposeTestCheckFunc(
					resource.TestCheckResourceAttr(address, "template_id", template),
					func(state *terraform.State) error {
						var submitted struct {
							ID string `json:"id"`
						}
						body := map[string]any{"template_id": template, "duration_mins": 60}
						if err := accServer.Client.Post(context.Background(), "/api/v1/access-requests", body, &submitted); err != nil {
							return err
						}
						requestID = submitted.ID
						return verifyDelivery(received, "access_request.submitted", state.RootModule().Resources[address].Primary.Attributes["webhook_signing_secret"])
					},
				),
			},
			{
				Config: own,
				Check: func(*terraform.State) error {
					if err := accServer.Client.Post(context.Background(), "/api/v1/access-requests/"+requestID+"/cancel", map[string]any{}, nil); err != nil {
						return err
					}
					return verifyDelivery(received, "access_request.cancelled", ownSigningSecret)
				},
			},
		},
	})
}

// verifyDelivery waits for the delivery of eventType and checks its Standard Webhooks signature
// (v1, HMAC-SHA256 of "id.timestamp.body") with secret.
func verifyDelivery(received <-chan delivery, eventType, secret string) error {
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	if err != nil || !strings.HasPrefix(secret, "whsec_") {
		return fmt.Errorf("the state's signing secret %q is not a whsec_ secret", secret)
	}
	deadline := time.After(30 * time.Second)
	for {
		select {
		case d := <-received:
			if d.eventType != eventType {
				continue
			}
			mac := hmac.New(sha256.New, key)
			mac.Write([]byte(d.id + "." + d.timestamp + "."))
			mac.Write(d.body)
			want := "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil))
			for _, candidate := range strings.Fields(d.signature) {
				if hmac.Equal([]byte(candidate), []byte(want)) {
					return nil
				}
			}
			return fmt.Errorf("the %s delivery is not signed with the state's secret (signature %q)", eventType, d.signature)
		case <-deadline:
			return fmt.Errorf("no %s delivery within 30 s", eventType)
		}
	}
}
