package provider

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
)

const templatesAPIPrefix = "/api/v1/access-request-templates/"

// templateTarget is an application with one mapping, made through the API, for the tests that
// exercise the template alone.
type templateTarget struct {
	AppID, MappingID, OtherAppMappingID string
}

func newTemplateTarget(t *testing.T, label string) templateTarget {
	t.Helper()
	holders := createThroughAPI(t, "/api/v1/groups", map[string]any{"name": label + " holders"})
	app := func(name string) (string, string) {
		appID := createThroughAPI(t, "/api/v1/applications", map[string]any{"name": name, "redirect_uris": []string{"https://app.example.test/callback"}})
		mappingID := createThroughAPI(t, "/api/v1/mappings", map[string]any{"app_id": appID, "claim": "role", "value": label, "group_ids": []string{holders}})
		return appID, mappingID
	}
	target := templateTarget{}
	target.AppID, target.MappingID = app(label + " app")
	_, target.OtherAppMappingID = app(label + " other app")
	return target
}

// templateConfig is two groups (approvers, escalation) managed by OpenTofu and a template on the
// target application; body is the template's attributes beyond name, app and mapping.
func templateConfig(label string, target templateTarget, body string) string {
	return testConfig(fmt.Sprintf(`
resource "interim_group" "approvers" {
  name = "%[1]s approvers"
}

resource "interim_group" "escalation" {
  name = "%[1]s escalation"
}

resource "interim_access_request_template" "test" {
  name        = "%[1]s"
  app_id      = %[2]q
  mapping_ids = [%[3]q]
%[4]s
}
`, label, target.AppID, target.MappingID, body))
}

// templateFromAPI reads a template as the admin, outside OpenTofu.
func templateFromAPI(id string) (templateAPI, error) {
	var found templateAPI
	err := accServer.Client.Get(context.Background(), templatesAPIPrefix+PathEscape(id), &found)
	return found, err
}

func TestAccAccessRequestTemplate_lifecycle(t *testing.T) {
	created := exampleConfig(t, "resources/interim_access_request_template/resource.tf")
	updated := replaceOnce(t, created, "allowed_durations = [30, 120]", "allowed_durations = [120, 30, 480]")
	updated = replaceOnce(t, updated, `    options = ["refund", "plan change", "invoice correction"]`, `    options = ["refund", "invoice correction"]`)
	updated = replaceOnce(t, updated, `notification_policy   = "first_n"`, `notification_policy   = "round_robin"`)
	updated = replaceOnce(t, updated, `allow_bulk_decisions = false`, "allow_bulk_decisions = true\n  step_up_minutes      = 10")
	const address = "interim_access_request_template.billing_admin"
	var id string

	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProviders,
		CheckDestroy:             checkDestroyedInAPI("interim_access_request_template", templatesAPIPrefix),
		Steps: []resource.TestStep{
			{
				// Create; plugin-testing then plans again and fails on any diff (an empty plan).
				Config: created,
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestMatchResourceAttr(address, "id", uuidPattern),
					captureAttr(address, "id", &id),
					resource.TestCheckResourceAttr(address, "version", "1"),
					resource.TestCheckResourceAttr(address, "approval", "groups"),
					resource.TestCheckTypeSetElemAttr(address, "allowed_durations.*", "30"),
					resource.TestCheckTypeSetElemAttr(address, "allowed_durations.*", "120"),
					resource.TestCheckResourceAttr(address, "requester_group_ids.#", "1"),
					resource.TestCheckResourceAttr(address, "custom_field.#", "3"),
					resource.TestCheckResourceAttr(address, "custom_field.1.options.#", "3"),
					resource.TestCheckResourceAttr(address, "custom_field.0.required", "true"),
					resource.TestCheckResourceAttr(address, "custom_field.1.required", "false"),
					resource.TestCheckResourceAttr(address, "trigger.0.failure_mode", "retry"),
					resource.TestCheckResourceAttr(address, "trigger.0.max_retries", "5"),
					resource.TestCheckResourceAttr(address, "allow_bulk_decisions", "false"),
					resource.TestCheckNoResourceAttr(address, "step_up_minutes"),
					resource.TestCheckResourceAttrPair(address, "trigger.0.script_id", "interim_script.billing_audit", "id"),
					resource.TestCheckResourceAttrPair(address, "escalation_group_id", "interim_group.finance_managers", "id"),
					checkTemplateInAPI(&id, func(t templateAPI) error {
						if len(t.CustomFields) != 3 || t.CustomFields[2].Key != "four_eyes" || t.Trigger == nil || t.Trigger.MaxRetries != 5 {
							return fmt.Errorf("custom fields or trigger not stored as configured: %+v %+v", t.CustomFields, t.Trigger)
						}
						return nil
					}),
				),
			},
			{
				// An in-place update (never a replacement) that bumps the version.
				Config: updated,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(address, plancheck.ResourceActionUpdate)},
				},
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr(address, "version", "2"),
					resource.TestCheckResourceAttr(address, "allowed_durations.#", "3"),
					resource.TestCheckResourceAttr(address, "notification_policy", "round_robin"),
					resource.TestCheckResourceAttr(address, "custom_field.1.options.#", "2"),
					resource.TestCheckResourceAttr(address, "allow_bulk_decisions", "true"),
					resource.TestCheckResourceAttr(address, "step_up_minutes", "10"),
					checkTemplateInAPI(&id, func(t templateAPI) error {
						if fmt.Sprint(t.AllowedDurations) != "[30 120 480]" || t.Version != 2 {
							return fmt.Errorf("expected durations [30 120 480] at version 2, got %v at %d", t.AllowedDurations, t.Version)
						}
						if !t.AllowBulkDecisions {
							return fmt.Errorf("allow_bulk_decisions not stored as configured")
						}
						if t.StepUpMinutes == nil || *t.StepUpMinutes != 10 {
							return fmt.Errorf("step_up_minutes not stored as configured: %v", t.StepUpMinutes)
						}
						return nil
					}),
				),
			},
			{
				// `tofu import` by id, every attribute compared with the state.
				ResourceName:      address,
				ImportState:       true,
				ImportStateVerify: true,
			},
			{
				// An import {} block with the id.
				Config:          updated,
				ResourceName:    address,
				ImportState:     true,
				ImportStateKind: resource.ImportBlockWithID,
			},
		},
	})
}

// wrappedPattern compiles a pattern for a diagnostic, where OpenTofu may have wrapped the line at
// any space: each space in the pattern matches any run of white space.
func wrappedPattern(pattern string) *regexp.Regexp {
	return regexp.MustCompile(strings.ReplaceAll(pattern, " ", `\s+`))
}

// checkTemplateInAPI reads the template through the API and applies check to it.
func checkTemplateInAPI(id *string, check func(templateAPI) error) resource.TestCheckFunc {
	return func(*terraform.State) error {
		found, err := templateFromAPI(*id)
		if err != nil {
			return err
		}
		return check(found)
	}
}

func TestAccAccessRequestTemplate_drift(t *testing.T) {
	label := "Drift " + randomHex(3)
	target := newTemplateTarget(t, label)
	config := templateConfig(label, target, `
  description        = "Managed by OpenTofu."
  allowed_durations  = [60, 240]
  approver_group_ids = [interim_group.approvers.id]
`)
	const address = "interim_access_request_template.test"
	var id string
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProviders,
		CheckDestroy:             checkDestroyedInAPI("interim_access_request_template", templatesAPIPrefix),
		Steps: []resource.TestStep{
			{
				Config: config,
				Check:  captureAttr(address, "id", &id),
			},
			{
				// An admin edits the template in the portal: the next plan shows it and puts it back.
				PreConfig: func() {
					patchThroughAPI(t, templatesAPIPrefix+id, map[string]any{"description": "Edited in the portal.", "allowed_durations": []int{15}, "custom_fields": []map[string]any{{"key": "ticket", "label": "Ticket", "type": "text"}}, "allow_bulk_decisions": true, "step_up_minutes": 15})
				},
				Config: config,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(address, plancheck.ResourceActionUpdate)},
				},
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr(address, "description", "Managed by OpenTofu."),
					resource.TestCheckResourceAttr(address, "custom_field.#", "0"),
					resource.TestCheckResourceAttr(address, "version", "3"),
					resource.TestCheckResourceAttr(address, "allow_bulk_decisions", "false"),
					resource.TestCheckNoResourceAttr(address, "step_up_minutes"),
					checkTemplateInAPI(&id, func(t templateAPI) error {
						if t.Description != "Managed by OpenTofu." || fmt.Sprint(t.AllowedDurations) != "[60 240]" || len(t.CustomFields) != 0 || t.AllowBulkDecisions || t.StepUpMinutes != nil {
							return fmt.Errorf("the portal's edit was not undone: %+v", t)
						}
						return nil
					}),
				),
			},
			{
				// Deleted in the portal: planned for creation again, not an error.
				PreConfig: func() { deleteThroughAPI(t, templatesAPIPrefix+id) },
				Config:    config,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(address, plancheck.ResourceActionCreate)},
				},
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr(address, "version", "1"),
					resource.TestCheckResourceAttrWith(address, "id", func(value string) error { return expectDifferent(id, value) }),
				),
			},
		},
	})
}

func TestAccAccessRequestTemplate_blocksKnownOnlyAtApply(t *testing.T) {
	// A dynamic block over a value known only once the group exists: the plan cannot see the
	// fields yet, and neither validation nor the apply may trip over that.
	label := "Dynamic " + randomHex(3)
	target := newTemplateTarget(t, label)
	config := templateConfig(label, target, `
  allowed_durations  = [60]
  approver_group_ids = [interim_group.approvers.id]
  dynamic "custom_field" {
    for_each = interim_group.approvers.id == "" ? [] : ["ticket"]
    content {
      key   = custom_field.value
      label = "Ticket for ${interim_group.approvers.name}"
      type  = "text"
    }
  }
`)
	const address = "interim_access_request_template.test"
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProviders,
		CheckDestroy:             checkDestroyedInAPI("interim_access_request_template", templatesAPIPrefix),
		Steps: []resource.TestStep{
			{
				Config: config,
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr(address, "custom_field.#", "1"),
					resource.TestCheckResourceAttr(address, "custom_field.0.key", "ticket"),
					resource.TestCheckResourceAttr(address, "custom_field.0.label", "Ticket for "+label+" approvers"),
				),
			},
		},
	})
}

// patchThroughAPI changes an object as the admin, outside OpenTofu, as the portal would.
func patchThroughAPI(t *testing.T, path string, body any) {
	t.Helper()
	if err := accServer.Client.Patch(context.Background(), path, body, nil); err != nil {
		t.Fatalf("PATCH %s: %v", path, err)
	}
}

// editedBetweenPlanAndApply is a plan check with a side effect: it changes the template through the
// API after OpenTofu planned and before it applies, which is the race If-Match guards against
// (a plan reviewed in a pull request, applied later while someone edits the template in the portal).
type editedBetweenPlanAndApply struct {
	t  *testing.T
	id *string
}

func (c editedBetweenPlanAndApply) CheckPlan(_ context.Context, _ plancheck.CheckPlanRequest, resp *plancheck.CheckPlanResponse) {
	if err := accServer.Client.Patch(context.Background(), templatesAPIPrefix+PathEscape(*c.id), map[string]any{"description": "Edited in the portal meanwhile."}, nil); err != nil {
		resp.Error = err
	}
}

func TestAccAccessRequestTemplate_staleApplyRefused(t *testing.T) {
	label := "Stale " + randomHex(3)
	target := newTemplateTarget(t, label)
	before := templateConfig(label, target, `
  allowed_durations = [60]
  approval          = "open"
`)
	after := replaceOnce(t, before, "allowed_durations = [60]", "allowed_durations = [60, 120]")
	const address = "interim_access_request_template.test"
	var id string
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProviders,
		CheckDestroy:             checkDestroyedInAPI("interim_access_request_template", templatesAPIPrefix),
		Steps: []resource.TestStep{
			{
				Config: before,
				Check:  captureAttr(address, "id", &id),
			},
			{
				// Planned against version 1; the portal makes version 2 before the apply: refused.
				Config: after,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(address, plancheck.ResourceActionUpdate), editedBetweenPlanAndApply{t: t, id: &id}},
				},
				ExpectError: wrappedPattern(`(?s)The access request template changed outside OpenTofu.*planned this change against version 1.*now at version 2`),
			},
			{
				// Nothing was overwritten: the portal's edit is still there, the durations unchanged.
				PreConfig: func() {
					found, err := templateFromAPI(id)
					if err != nil || found.Description != "Edited in the portal meanwhile." || fmt.Sprint(found.AllowedDurations) != "[60]" || found.Version != 2 {
						t.Fatalf("the refused apply changed the template: %+v (%v)", found, err)
					}
				},
				// The next run reads version 2, shows the portal's edit in its plan and applies.
				Config: after,
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr(address, "version", "3"),
					resource.TestCheckResourceAttr(address, "description", ""),
					resource.TestCheckResourceAttr(address, "allowed_durations.#", "2"),
				),
			},
		},
	})
}

func TestAccAccessRequestTemplate_groupInUseCannotBeDeleted(t *testing.T) {
	label := "In use " + randomHex(3)
	target := newTemplateTarget(t, label)
	withGroup := testConfig(fmt.Sprintf(`
resource "interim_group" "approvers" {
  name = "%s approvers"
}
`, label))
	withoutGroup := testConfig(fmt.Sprintf(`
resource "interim_group" "other" {
  name = "%s other"
}
`, label))
	var groupID, templateID string
	templateName := label + " portal template"
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProviders,
		Steps: []resource.TestStep{
			{
				Config: withGroup,
				Check: resource.ComposeAggregateTestCheckFunc(
					captureAttr("interim_group.approvers", "id", &groupID),
					func(*terraform.State) error {
						// A template made in the portal names the group as its approvers.
						templateID = createThroughAPI(t, "/api/v1/access-request-templates", map[string]any{
							"name": templateName, "app_id": target.AppID, "mapping_ids": []string{target.MappingID},
							"allowed_durations": []int{60}, "approver_group_ids": []string{groupID},
						})
						return nil
					},
				),
			},
			{
				// Removing the group from the configuration: the server's 409 message, naming the template.
				Config:      withoutGroup,
				ExpectError: wrappedPattern(`(?s)Could not delete the group.*409.*access-request templates use this group: ` + regexp.QuoteMeta(templateName)),
			},
			{
				// Once the template no longer uses it, the group goes.
				PreConfig: func() { deleteThroughAPI(t, templatesAPIPrefix+templateID) },
				Config:    withoutGroup,
				Check: func(*terraform.State) error {
					if err := accServer.Client.Get(context.Background(), "/api/v1/groups/"+groupID, nil); !IsNotFound(err) {
						return fmt.Errorf("expected the group to be gone (404), got %v", err)
					}
					return nil
				},
			},
		},
	})
}

func TestAccAccessRequestTemplate_invalidValuesFailAtPlan(t *testing.T) {
	const appID, mappingID, groupID = "0190c1f0-8a4e-7c3b-9d2e-5f6a7b8c9d01", "0190c1f0-8a4e-7c3b-9d2e-5f6a7b8c9d02", "0190c1f0-8a4e-7c3b-9d2e-5f6a7b8c9d03"
	config := func(body string) string {
		return testConfig(fmt.Sprintf(`
resource "interim_access_request_template" "bad" {
  name               = "Bad"
  app_id             = %q
  mapping_ids        = [%q]
  approver_group_ids = [%q]
%s
}
`, appID, mappingID, groupID, body))
	}
	cases := []struct{ body, expect string }{
		{`allowed_durations = [0, 60]`, `(?s)allowed_durations.*must be between 1 and 525600, got: 0`},
		{`allowed_durations = [525601]`, `(?s)allowed_durations.*must be between 1 and 525600, got: 525601`},
		{`allowed_durations = []`, `(?s)allowed_durations.*set must contain at least 1 elements`},
		{"allowed_durations = [60]\n  escalation_after_mins = 15", `(?s)escalation_after_mins.*"escalation_group_id" must be specified when "escalation_after_mins"`},
		{fmt.Sprintf("allowed_durations = [60]\n  escalation_group_id = %q", groupID), `(?s)escalation_group_id.*"escalation_after_mins" must be specified when "escalation_group_id"`},
		{"allowed_durations = [60]\n  escalation_after_mins = 10081\n  escalation_group_id = \"" + groupID + "\"", `(?s)escalation_after_mins.*must be between 1 and 10080`},
		{"allowed_durations = [60]\n  auto_approve = true", `(?s)auto_approve needs requester groups.*needs at least one group in requester_group_ids`},
		{"allowed_durations = [60]\n  notification_policy = \"sometimes\"", `(?s)notification_policy.*value must be one of:.*"round_robin"`},
		{"allowed_durations = [60]\n  notification_count = 0", `(?s)notification_count.*must be between 1 and 100`},
		{"allowed_durations = [60]\n  step_up_minutes = 0", `(?s)step_up_minutes.*must be between 1 and 60, got: 0`},
		{"allowed_durations = [60]\n  step_up_minutes = 61", `(?s)step_up_minutes.*must be between 1 and 60, got: 61`},
		{"allowed_durations = [60]\n  approval = \"open\"", `(?s)Approver groups on an open template.*approver_group_ids must be empty when approval is "open"`},
		{"allowed_durations = [60]\n  escalation_after_mins = 15\n  escalation_group_id = \"not-an-id\"", `(?s)escalation_group_id.*must be an id`},
		{"allowed_durations = [60]\n  custom_field {\n    key = \"Ticket\"\n    label = \"Ticket\"\n    type = \"text\"\n  }", `(?s)custom_field\[0\]\.key.*must be a lowercase letter followed by up to 39`},
		{"allowed_durations = [60]\n  custom_field {\n    key = \"ticket\"\n    label = \"Ticket\"\n    type = \"text\"\n  }\n  custom_field {\n    key = \"ticket\"\n    label = \"Again\"\n    type = \"text\"\n  }", `(?s)Repeated custom field key.*the key "ticket" is used by an earlier field`},
		{"allowed_durations = [60]\n  custom_field {\n    key = \"env\"\n    label = \"Env\"\n    type = \"dropdown\"\n  }", `(?s)Dropdown without options.*custom_field {.*a dropdown needs 1 to 50 options`},
		{"allowed_durations = [60]\n  custom_field {\n    key = \"ok\"\n    label = \"OK\"\n    type = \"checkbox\"\n    options = [\"yes\"]\n  }", `(?s)Options on a field that is not a dropdown`},
		{"allowed_durations = [60]\n  trigger {\n    script_id = \"" + groupID + "\"\n    failure_mode = \"explode\"\n  }", `(?s)trigger\[0\]\.failure_mode.*value must be one of`},
	}
	steps := make([]resource.TestStep, 0, len(cases))
	for _, c := range cases {
		steps = append(steps, resource.TestStep{Config: config(c.body), PlanOnly: true, ExpectError: wrappedPattern(c.expect)})
	}
	// No approver groups and no approval: the server would refuse it, so the plan does.
	steps = append(steps, resource.TestStep{
		Config: testConfig(fmt.Sprintf(`
resource "interim_access_request_template" "bad" {
  name              = "No approvers"
  app_id            = %q
  mapping_ids       = [%q]
  allowed_durations = [60]
}
`, appID, mappingID)),
		PlanOnly:    true,
		ExpectError: wrappedPattern(`(?s)No approvers.*set approval = "open"`),
	})
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProviders,
		Steps:                    steps,
	})
}

func TestAccAccessRequestTemplate_serverRejectionNamesTheAttribute(t *testing.T) {
	// Valid at plan time, refused by the server: a mapping of another application.
	label := "Rejected " + randomHex(3)
	target := newTemplateTarget(t, label)
	valid := target
	target.MappingID = target.OtherAppMappingID
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProviders,
		Steps: []resource.TestStep{
			{
				Config:      templateConfig(label, target, "  allowed_durations = [60]\n  approval = \"open\""),
				ExpectError: wrappedPattern(`(?s)Could not create the access request template.*mapping_ids.*Interim rejected this value: mapping .* belongs to another application`),
			},
			{
				// A trigger naming a script that does not exist: the error sits on the trigger block's script_id.
				Config: templateConfig(label+" trigger", valid, `
  allowed_durations = [60]
  approval          = "open"
  trigger {
    script_id = "0190c1f0-8a4e-7c3b-9d2e-5f6a7b8c9d99"
  }
`),
				ExpectError: wrappedPattern(`(?s)Could not create the access request template.*script_id = "0190c1f0-8a4e-7c3b-9d2e-5f6a7b8c9d99".*Interim rejected this value: no live script has the id`),
			},
		},
	})
}

func TestTemplateFieldPath(t *testing.T) {
	for field, want := range map[string]string{
		"custom_fields.2.key":  "custom_field.2.key",
		"custom_fields":        "custom_field",
		"trigger.script_id":    "trigger.0.script_id",
		"mapping_ids.1":        "mapping_ids.1",
		"escalation_group_id":  "escalation_group_id",
		"approver_group_ids.0": "approver_group_ids.0",
	} {
		if got := templateFieldPath(field); got != want {
			t.Errorf("templateFieldPath(%q) = %q, want %q", field, got, want)
		}
	}
}
