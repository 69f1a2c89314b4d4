package provider

import (
	"fmt"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
)

// Issue 12 §1: `stage` blocks on interim_access_request_template, the flat attributes as the
// one-stage form (Optional and Computed, filled by the server only for one stage), and the conflict.
func TestAccAccessRequestTemplate_stages(t *testing.T) {
	label := "Stages " + randomHex(3)
	target := newTemplateTarget(t, label)
	twoStages := templateConfig(label, target, `
  allowed_durations = [60]
  stage {
    approver_group_ids = [interim_group.approvers.id]
    quorum             = 2
  }
  stage {
    approver_group_ids    = [interim_group.escalation.id]
    escalation_after_mins = 45
    escalation_group_id   = interim_group.approvers.id
  }
`)
	flat := templateConfig(label, target, `
  allowed_durations  = [60]
  approver_group_ids = [interim_group.approvers.id]
`)
	oneStage := templateConfig(label, target, `
  allowed_durations = [60]
  stage {
    approval = "open"
    quorum   = 3
  }
`)
	conflicting := templateConfig(label, target, `
  allowed_durations  = [60]
  approver_group_ids = [interim_group.approvers.id]
  stage {
    approver_group_ids = [interim_group.approvers.id]
  }
`)
	const address = "interim_access_request_template.test"
	var id string
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProviders,
		CheckDestroy:             checkDestroyedInAPI("interim_access_request_template", templatesAPIPrefix),
		Steps: []resource.TestStep{
			{
				// Refused at plan time, before anything is created.
				Config:      conflicting,
				ExpectError: wrappedPattern(`Conflicting approval settings`),
			},
			{
				Config: twoStages,
				Check: resource.ComposeAggregateTestCheckFunc(
					captureAttr(address, "id", &id),
					resource.TestCheckResourceAttr(address, "stage.#", "2"),
					resource.TestCheckResourceAttr(address, "stage.0.quorum", "2"),
					resource.TestCheckResourceAttr(address, "stage.1.quorum", "1"),
					// Several stages: the flat attributes are empty.
					resource.TestCheckResourceAttr(address, "approver_group_ids.#", "0"),
					resource.TestCheckNoResourceAttr(address, "approval"),
					resource.TestCheckNoResourceAttr(address, "escalation_after_mins"),
					checkTemplateInAPI(&id, func(t templateAPI) error {
						if len(t.Stages) != 2 || t.Stages[0].Quorum != 2 || t.Stages[1].EscalationAfterMins == nil || *t.Stages[1].EscalationAfterMins != 45 || t.Approval != nil {
							return fmt.Errorf("stages not stored as configured: %+v", t.Stages)
						}
						return nil
					}),
				),
			},
			{
				// `tofu import` by id: several stages come back as stage blocks (a stage's approval is read back as the server infers it).
				ResourceName:            address,
				ImportState:             true,
				ImportStateVerify:       true,
				ImportStateVerifyIgnore: []string{"stage.0.approval", "stage.1.approval"},
			},
			{
				// Back to the flat, one-stage form: an in-place update.
				Config: flat,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(address, plancheck.ResourceActionUpdate)},
				},
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr(address, "stage.#", "0"),
					resource.TestCheckResourceAttr(address, "approval", "groups"),
					resource.TestCheckResourceAttr(address, "approver_group_ids.#", "1"),
					checkTemplateInAPI(&id, func(t templateAPI) error {
						if len(t.Stages) != 1 || t.Stages[0].Quorum != 1 || len(t.ApproverGroupIDs) != 1 {
							return fmt.Errorf("expected one stage, the flat attributes filled: %+v", t)
						}
						return nil
					}),
				),
			},
			{
				// One stage block with a quorum: the server fills the flat attributes as stage 1's.
				Config: oneStage,
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr(address, "stage.#", "1"),
					resource.TestCheckResourceAttr(address, "stage.0.quorum", "3"),
					resource.TestCheckResourceAttr(address, "approval", "open"),
					resource.TestCheckResourceAttr(address, "approver_group_ids.#", "0"),
					checkTemplateInAPI(&id, func(t templateAPI) error {
						if len(t.Stages) != 1 || t.Stages[0].Quorum != 3 || t.Approval == nil || *t.Approval != "open" {
							return fmt.Errorf("expected one open stage with quorum 3: %+v", t)
						}
						return nil
					}),
				),
			},
		},
	})
}
