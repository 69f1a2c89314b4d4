package provider

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"
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

// expectStatus checks an API call's outcome: nil for 2xx, else the *APIError's status.
func expectStatus(err error, status int) error {
	got := http.StatusOK
	var apiErr *APIError
	if errors.As(err, &apiErr) {
		got = apiErr.Status
	} else if err != nil {
		return err
	}
	if got != status {
		return fmt.Errorf("expected status %d, got %d (%v)", status, got, err)
	}
	return nil
}

func tfjsonPath(attribute string) tfjsonpath.Path { return tfjsonpath.New(attribute) }

func knownBool(v bool) knownvalue.Check { return knownvalue.Bool(v) }
