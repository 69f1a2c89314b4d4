package provider

import (
	"context"
	"fmt"
	"regexp"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/terraform"
)

var uuidPattern = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

// captureAttr stores a resource's attribute from the state, for a later step to compare or use.
func captureAttr(address, attribute string, into *string) func(*terraform.State) error {
	return func(state *terraform.State) error {
		rs, ok := state.RootModule().Resources[address]
		if !ok {
			return fmt.Errorf("%s is not in the state", address)
		}
		*into = rs.Primary.Attributes[attribute]
		if *into == "" {
			return fmt.Errorf("%s has no %s", address, attribute)
		}
		return nil
	}
}

func expectDifferent(before, after string) error {
	if before == after {
		return fmt.Errorf("expected a new value, still %q", after)
	}
	return nil
}

// createThroughAPI POSTs body as the admin (outside OpenTofu, as the portal would) and returns the new id.
func createThroughAPI(t *testing.T, path string, body any) string {
	t.Helper()
	testAccPreCheck(t)
	var created struct {
		ID string `json:"id"`
	}
	if err := accServer.Client.Post(context.Background(), path, body, &created); err != nil {
		t.Fatalf("POST %s: %v", path, err)
	}
	return created.ID
}

// deleteThroughAPI deletes as the admin, outside OpenTofu; an object already gone is fine.
func deleteThroughAPI(t *testing.T, path string) {
	t.Helper()
	if err := accServer.Client.Delete(context.Background(), path); err != nil && !IsNotFound(err) {
		t.Fatalf("DELETE %s: %v", path, err)
	}
}
