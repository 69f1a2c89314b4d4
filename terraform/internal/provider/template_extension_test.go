package provider

import (
	"fmt"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
)

// Extension attributes of interim_access_request_template (issue 12 §2): the default total, an
// in-place change of each, the approval-free form on an auto-approve template, and the plan-time rules.
func TestAccAccessRequestTemplate_extension(t *testing.T) {
	label := "Extension " + randomHex(3)
	target := newTemplateTarget(t, label)
	const address = "interim_access_request_template.test"
	var id string
	config := func(body string) string {
		return templateConfig(label, target, `
  allowed_durations  = [60, 240]
  approver_group_ids = [interim_group.approvers.id]
`+body)
	}
	expectInAPI := func(allow, needsApproval bool, total *int64) resource.TestCheckFunc {
		return checkTemplateInAPI(&id, func(t templateAPI) error {
			same := t.AllowExtension == allow && t.ExtensionRequiresApproval == needsApproval &&
				((t.MaxTotalMins == nil && total == nil) || (t.MaxTotalMins != nil && total != nil && *t.MaxTotalMins == *total))
			if !same {
				return fmt.Errorf("extension attributes in the API: allow %v, approval %v, total %v", t.AllowExtension, t.ExtensionRequiresApproval, t.MaxTotalMins)
			}
			return nil
		})
	}
	total := func(v int64) *int64 { return &v }

	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProviders,
		CheckDestroy:             checkDestroyedInAPI("interim_access_request_template", templatesAPIPrefix),
		Steps: []resource.TestStep{
			{
				// Left out, the total is the longest duration, planned as the server fills it (no diff after).
				Config: config("  allow_extension = true\n"),
				Check: resource.ComposeAggregateTestCheckFunc(
					captureAttr(address, "id", &id),
					resource.TestCheckResourceAttr(address, "allow_extension", "true"),
					resource.TestCheckResourceAttr(address, "extension_requires_approval", "true"),
					resource.TestCheckResourceAttr(address, "max_total_mins", "240"),
					expectInAPI(true, true, total(240)),
				),
			},
			{
				Config: config("  allow_extension = true\n  max_total_mins  = 480\n"),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(address, plancheck.ResourceActionUpdate)},
				},
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr(address, "max_total_mins", "480"),
					resource.TestCheckResourceAttr(address, "version", "2"),
					expectInAPI(true, true, total(480)),
				),
			},
			{
				// Approval-free extension on an auto-approve template.
				Config: config(`
  requester_group_ids         = [interim_group.approvers.id]
  auto_approve                = true
  allow_extension             = true
  extension_requires_approval = false
  max_total_mins              = 480
`),
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr(address, "extension_requires_approval", "false"),
					expectInAPI(true, false, total(480)),
				),
			},
			{
				// Extensions off again: the total goes back to null.
				Config: config(""),
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr(address, "allow_extension", "false"),
					resource.TestCheckNoResourceAttr(address, "max_total_mins"),
					expectInAPI(false, true, nil),
				),
			},
			{
				// A change made in the portal shows as drift and is put back.
				PreConfig: func() {
					patchThroughAPI(t, templatesAPIPrefix+PathEscape(id), map[string]any{"allow_extension": true, "max_total_mins": 600})
				},
				Config: config(""),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(address, plancheck.ResourceActionUpdate)},
				},
				Check: expectInAPI(false, true, nil),
			},
		},
	})
}

func TestAccAccessRequestTemplate_extensionRulesFailAtPlan(t *testing.T) {
	const appID, mappingID, groupID = "0190c1f0-8a4e-7c3b-9d2e-5f6a7b8c9d01", "0190c1f0-8a4e-7c3b-9d2e-5f6a7b8c9d02", "0190c1f0-8a4e-7c3b-9d2e-5f6a7b8c9d03"
	config := func(body string) string {
		return testConfig(fmt.Sprintf(`
resource "interim_access_request_template" "bad" {
  name               = "Bad"
  app_id             = %q
  mapping_ids        = [%q]
  approver_group_ids = [%q]
  allowed_durations  = [60, 240]
%s
}
`, appID, mappingID, groupID, body))
	}
	cases := []struct{ body, expect string }{
		{"  allow_extension = true\n  extension_requires_approval = false", `(?s)Extension without approval.*only with auto_approve = true`},
		{"  allow_extension = true\n  max_total_mins = 120", `(?s)Total shorter than a duration.*at least the longest of allowed_durations`},
		{"  allow_extension = true\n  max_total_mins = 0", `(?s)max_total_mins.*must be between 1 and 525600`},
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
