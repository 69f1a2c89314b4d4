package provider

import (
	"fmt"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
)

// Issue 12 §4 and §5: pending_ttl_mins, break_glass, break_glass_max_mins and break_glass_review_mins
// through OpenTofu against a real server: create, an in-place update that turns them off, import, and
// the plan-time rules.
func TestAccAccessRequestTemplate_lapseAndBreakGlass(t *testing.T) {
	label := "Break glass " + randomHex(3)
	target := newTemplateTarget(t, label)
	const address = "interim_access_request_template.test"
	on := templateConfig(label, target, `
  allowed_durations     = [60, 240]
  approver_group_ids    = [interim_group.approvers.id]
  requester_group_ids   = [interim_group.escalation.id]
  escalation_after_mins = 15
  escalation_group_id   = interim_group.escalation.id
  pending_ttl_mins      = 600

  break_glass             = true
  break_glass_max_mins    = 45
  break_glass_review_mins = 90
`)
	off := templateConfig(label, target, `
  allowed_durations     = [60, 240]
  approver_group_ids    = [interim_group.approvers.id]
  requester_group_ids   = [interim_group.escalation.id]
  escalation_after_mins = 15
  escalation_group_id   = interim_group.escalation.id
`)
	var id string
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProviders,
		CheckDestroy:             checkDestroyedInAPI("interim_access_request_template", templatesAPIPrefix),
		Steps: []resource.TestStep{
			{
				Config: on,
				Check: resource.ComposeAggregateTestCheckFunc(
					captureAttr(address, "id", &id),
					resource.TestCheckResourceAttr(address, "pending_ttl_mins", "600"),
					resource.TestCheckResourceAttr(address, "break_glass", "true"),
					resource.TestCheckResourceAttr(address, "break_glass_max_mins", "45"),
					resource.TestCheckResourceAttr(address, "break_glass_review_mins", "90"),
					checkTemplateInAPI(&id, func(t templateAPI) error {
						if !t.BreakGlass || t.PendingTTLMins == nil || *t.PendingTTLMins != 600 || t.BreakGlassMaxMins == nil || *t.BreakGlassMaxMins != 45 ||
							t.BreakGlassReviewMins == nil || *t.BreakGlassReviewMins != 90 {
							return fmt.Errorf("lapse and break-glass not stored as configured: %+v", t)
						}
						return nil
					}),
				),
			},
			{
				// Turned off in place (never a replacement): the server holds nulls and false again.
				Config: off,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(address, plancheck.ResourceActionUpdate)},
				},
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr(address, "break_glass", "false"),
					resource.TestCheckNoResourceAttr(address, "pending_ttl_mins"),
					resource.TestCheckNoResourceAttr(address, "break_glass_max_mins"),
					resource.TestCheckResourceAttr(address, "version", "2"),
					checkTemplateInAPI(&id, func(t templateAPI) error {
						if t.BreakGlass || t.PendingTTLMins != nil || t.BreakGlassMaxMins != nil || t.BreakGlassReviewMins != nil {
							return fmt.Errorf("expected lapse and break-glass off, got %+v", t)
						}
						return nil
					}),
				),
			},
			{
				// Back on, then imported: every attribute read back equals the state.
				Config: on,
				Check:  resource.TestCheckResourceAttr(address, "break_glass", "true"),
			},
			{
				ResourceName:      address,
				ImportState:       true,
				ImportStateVerify: true,
			},
		},
	})
}

func TestAccAccessRequestTemplate_lapseAndBreakGlassRulesFailAtPlan(t *testing.T) {
	const appID, mappingID, groupID = "0190c1f0-8a4e-7c3b-9d2e-5f6a7b8c9d01", "0190c1f0-8a4e-7c3b-9d2e-5f6a7b8c9d02", "0190c1f0-8a4e-7c3b-9d2e-5f6a7b8c9d03"
	config := func(body string) string {
		return testConfig(fmt.Sprintf(`
resource "interim_access_request_template" "bad" {
  name               = "Bad"
  app_id             = %q
  mapping_ids        = [%q]
  approver_group_ids = [%q]
  allowed_durations  = [60]
%s
}
`, appID, mappingID, groupID, body))
	}
	escalation := fmt.Sprintf("  escalation_after_mins = 30\n  escalation_group_id = %q\n", groupID)
	requesters := fmt.Sprintf("  requester_group_ids = [%q]\n", groupID)
	cases := []struct{ body, expect string }{
		{escalation + "  pending_ttl_mins = 30", `(?s)Lapse before escalation.*must be larger than escalation_after_mins \(30\)`},
		{escalation + "  pending_ttl_mins = 10", `(?s)Lapse before escalation`},
		{"  pending_ttl_mins = 0", `(?s)pending_ttl_mins.*must be between 1 and 43200`},
		{"  pending_ttl_mins = 43201", `(?s)pending_ttl_mins.*must be between 1 and 43200`},
		{"  break_glass = true\n  break_glass_max_mins = 30\n  break_glass_review_mins = 60", `(?s)break_glass needs requester groups`},
		{requesters + "  break_glass = true\n  break_glass_review_mins = 60", `(?s)break_glass_max_mins must be set when break_glass is true`},
		{requesters + "  break_glass = true\n  break_glass_max_mins = 30", `(?s)break_glass_review_mins must be set when break_glass is true`},
		{requesters + "  break_glass = true\n  break_glass_max_mins = 1441\n  break_glass_review_mins = 60", `(?s)break_glass_max_mins.*must be between 1 and 1440`},
		{requesters + "  break_glass = true\n  break_glass_max_mins = 30\n  break_glass_review_mins = 10081", `(?s)break_glass_review_mins.*must be between 1 and 10080`},
	}
	steps := make([]resource.TestStep, 0, len(cases))
	for _, c := range cases {
		steps = append(steps, resource.TestStep{Config: config(c.body), PlanOnly: true, ExpectError: wrappedPattern(c.expect)})
	}
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProviders,
		Steps:                    steps,
	})
}
