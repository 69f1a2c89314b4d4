package provider

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
)

// requestAPI is the part of an access request the story looks at.
type requestAPI struct {
	ID              string `json:"id"`
	Status          string `json:"status"`
	TemplateVersion int64  `json:"template_version"`
	DurationMins    int64  `json:"duration_mins"`
	ApprovedAt      string `json:"approved_at"`
	ExpiresAt       string `json:"expires_at"`
	Grants          []struct {
		Claim string `json:"claim"`
		Value any    `json:"value"`
	} `json:"grants"`
}

// briefStory is what the steps of the end-to-end story share.
type briefStory struct {
	t                      *testing.T
	templateID, approverGr string
	app                    oidcClient
	approver               *person
	// pending is a request for 480 minutes, still open when the template changes.
	pending        *person
	pendingRequest string
}

// TestAccAccessRequestTemplate_briefExample applies examples/brief/main.tf as written, then through
// the REST API a requester submits, an approver approves and a fresh token for the application
// carries the mapped claim; then allowed_durations changes in HCL: the version grows and the request
// still open keeps its snapshot. Then an empty plan, import, and destroy (checked through the API).
func TestAccAccessRequestTemplate_briefExample(t *testing.T) {
	config := exampleConfig(t, "brief/main.tf")
	changed := replaceOnce(t, config, "allowed_durations  = [60, 240, 480]", "allowed_durations  = [30, 60, 240]")
	const address = "interim_access_request_template.prod_access"
	story := &briefStory{t: t}

	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProviders,
		CheckDestroy: resource.ComposeAggregateTestCheckFunc(
			checkDestroyedInAPI("interim_access_request_template", templatesAPIPrefix),
			checkDestroyedInAPI("interim_group", "/api/v1/groups/"),
		),
		Steps: []resource.TestStep{
			{
				// Apply the brief; plugin-testing then plans again and fails on any diff.
				Config: config,
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr(address, "name", "Production environment access"),
					resource.TestCheckResourceAttr(address, "version", "1"),
					resource.TestCheckResourceAttr(address, "allowed_durations.#", "3"),
					resource.TestCheckResourceAttr(address, "notification_policy", "random_n"),
					resource.TestCheckResourceAttr(address, "notification_count", "2"),
					resource.TestCheckResourceAttr(address, "escalation_after_mins", "15"),
					resource.TestCheckResourceAttrPair(address, "escalation_group_id", "interim_group.engineering_managers", "id"),
					resource.TestCheckResourceAttrPair(address, "app_id", "interim_application.prod_db", "id"),
					story.capture,
					story.requestApproveAndSignIn,
				),
			},
			{
				// A new set of durations: an in-place update, a new version, and the open request keeps its snapshot.
				Config: changed,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(address, plancheck.ResourceActionUpdate)},
				},
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr(address, "version", "2"),
					resource.TestCheckTypeSetElemAttr(address, "allowed_durations.*", "30"),
					story.openRequestKeepsItsSnapshot,
				),
			},
			{
				// A second run plans nothing.
				Config:   changed,
				PlanOnly: true,
			},
			{
				// `tofu import` of the template, every attribute compared with the state.
				ResourceName:      address,
				ImportState:       true,
				ImportStateVerify: true,
			},
		},
	})
}

// capture keeps the ids and the application's client credentials from the state.
func (s *briefStory) capture(state *terraform.State) error {
	resources := state.RootModule().Resources
	for address, target := range map[string]*string{
		"interim_access_request_template.prod_access": &s.templateID,
		"interim_group.on_call_leads":                 &s.approverGr,
		"interim_application.prod_db":                 &s.app.ID,
	} {
		rs, ok := resources[address]
		if !ok {
			return fmt.Errorf("%s is not in the state", address)
		}
		*target = rs.Primary.ID
	}
	app := resources["interim_application.prod_db"].Primary.Attributes
	s.app.Secret, s.app.RedirectURI = app["client_secret"], app["redirect_uris.0"]
	if s.app.Secret == "" || s.app.RedirectURI == "" {
		return fmt.Errorf("the application's client_secret or redirect URI is not in the state: %v", app)
	}
	return nil
}

// requestApproveAndSignIn: a requester asks for an hour, an on-call lead approves, and the
// requester's next sign-in to the console carries db_role = "readonly" (and the one before did not).
func (s *briefStory) requestApproveAndSignIn(*terraform.State) error {
	t := s.t
	requester := newPerson(t, "requester")
	s.approver = newPerson(t, "approver")
	if err := accServer.Client.Put(t.Context(), "/api/v1/groups/"+s.approverGr+"/members/"+s.approver.ID, map[string]any{"expires_at": nil}, nil); err != nil {
		return fmt.Errorf("adding the approver to the on-call leads: %w", err)
	}

	idToken, _, err := requester.signInTo(s.app)
	if err != nil {
		return fmt.Errorf("signing in before any request: %w", err)
	}
	if _, has := idToken["db_role"]; has {
		return fmt.Errorf("db_role before any request: %v", idToken)
	}

	submitted, err := s.submit(requester, 60)
	if err != nil {
		return err
	}
	if submitted.Status != "pending" || submitted.TemplateVersion != 1 {
		return fmt.Errorf("expected a pending request on version 1, got %+v", submitted)
	}
	approved, err := s.approve(submitted.ID)
	if err != nil {
		return err
	}
	if approved.Status != "approved" || len(approved.Grants) != 1 || approved.Grants[0].Claim != "db_role" || approved.Grants[0].Value != "readonly" {
		return fmt.Errorf("expected an approved grant of db_role=readonly, got %+v", approved)
	}
	if err := expectLasts(approved, 60); err != nil {
		return err
	}

	idToken, userinfo, err := requester.signInTo(s.app)
	if err != nil {
		return fmt.Errorf("signing in after approval: %w", err)
	}
	if idToken["db_role"] != "readonly" || userinfo["db_role"] != "readonly" {
		return fmt.Errorf("a fresh sign-in lacks db_role=readonly: ID token %v, userinfo %v", idToken, userinfo)
	}
	// The value comes from temporary access, so the token lives at most 5 minutes.
	if lifetime := idToken["exp"].(float64) - idToken["iat"].(float64); lifetime > 300 {
		return fmt.Errorf("an ID token carrying temporary access lives %v s, more than 300", lifetime)
	}

	// Someone else asks for 8 hours; nobody decides before the template changes.
	s.pending = newPerson(t, "late-requester")
	open, err := s.submit(s.pending, 480)
	if err != nil {
		return err
	}
	s.pendingRequest = open.ID
	return nil
}

// openRequestKeepsItsSnapshot runs after allowed_durations became [30, 60, 240].
func (s *briefStory) openRequestKeepsItsSnapshot(*terraform.State) error {
	t := s.t
	found, err := templateFromAPI(s.templateID)
	if err != nil {
		return err
	}
	if found.Version != 2 || fmt.Sprint(found.AllowedDurations) != "[30 60 240]" {
		return fmt.Errorf("expected version 2 with durations [30 60 240], got %d %v", found.Version, found.AllowedDurations)
	}
	// A new request for 8 hours is refused now ...
	newcomer := newPerson(t, "newcomer")
	if status, _ := newcomer.call(http.MethodPost, "/api/v1/access-requests", map[string]any{"template_id": s.templateID, "duration_mins": 480, "justification": "INC-2: disk full"}, nil); status != http.StatusBadRequest {
		return fmt.Errorf("a request for 480 minutes after the change answered %d, expected 400", status)
	}
	// ... but the one made on version 1 keeps its snapshot, and approving it grants what it asked.
	var open requestAPI
	if _, err := s.pending.call(http.MethodGet, "/api/v1/access-requests/"+s.pendingRequest, nil, &open); err != nil {
		return err
	}
	if open.Status != "pending" || open.TemplateVersion != 1 || open.DurationMins != 480 {
		return fmt.Errorf("the open request lost its snapshot: %+v", open)
	}
	approved, err := s.approve(s.pendingRequest)
	if err != nil {
		return err
	}
	if approved.Status != "approved" || approved.TemplateVersion != 1 || len(approved.Grants) != 1 || approved.Grants[0].Value != "readonly" {
		return fmt.Errorf("approving the version-1 request: %+v", approved)
	}
	return expectLasts(approved, 480)
}

func (s *briefStory) submit(requester *person, minutes int) (requestAPI, error) {
	var submitted requestAPI
	_, err := requester.call(http.MethodPost, "/api/v1/access-requests", map[string]any{
		"template_id": s.templateID, "duration_mins": minutes, "justification": "INC-1: replica lag in eu-west",
	}, &submitted)
	return submitted, err
}

func (s *briefStory) approve(requestID string) (requestAPI, error) {
	var approved requestAPI
	_, err := s.approver.call(http.MethodPost, "/api/v1/access-requests/"+requestID+"/approve", map[string]any{"comment": "go ahead"}, &approved)
	return approved, err
}

// expectLasts checks that an approved grant ends the asked number of minutes after its approval.
func expectLasts(r requestAPI, minutes int) error {
	approvedAt, err1 := time.Parse(time.RFC3339Nano, r.ApprovedAt)
	expiresAt, err2 := time.Parse(time.RFC3339Nano, r.ExpiresAt)
	if err1 != nil || err2 != nil {
		return fmt.Errorf("approved_at %q, expires_at %q: %v %v", r.ApprovedAt, r.ExpiresAt, err1, err2)
	}
	if got := expiresAt.Sub(approvedAt); got != time.Duration(minutes)*time.Minute {
		return fmt.Errorf("the grant lasts %v, expected %d minutes", got, minutes)
	}
	return nil
}
