package provider

import "testing"

// The plan-time rules that mirror the server's, case by case (no server needed). The acceptance
// tests show one of each reaching the user as a diagnostic on the attribute.
func TestAppsValidators(t *testing.T) {
	cases := []struct {
		rule  string
		check func(string) string
		value string
		ok    bool
	}{
		{"redirect", redirectURIProblem, "https://app.example.com/cb", true},
		{"redirect", redirectURIProblem, "http://localhost:8080/cb", true},
		{"redirect", redirectURIProblem, "http://127.0.0.1/cb", true},
		{"redirect", redirectURIProblem, "http://[::1]:9000/cb", true},
		{"redirect", redirectURIProblem, "http://app.example.com/cb", false},
		{"redirect", redirectURIProblem, "https://app.example.com/cb#", false},
		{"redirect", redirectURIProblem, "https://user:pw@app.example.com/cb", false},
		{"redirect", redirectURIProblem, "/relative/cb", false},
		{"redirect", redirectURIProblem, "myapp://cb", false},
		{"claim", claimProblem, "roles", true},
		{"claim", claimProblem, "urn:example:role", true},
		{"claim", claimProblem, "https://example.com/role", false},
		{"claim", claimProblem, "groups", true},
		{"claim", claimProblem, "SUB", false},
		{"claim", claimProblem, "email_verified", false},
		{"claim", claimProblem, "1st", false},
		{"claim", claimProblem, "has space", false},
		{"host", allowedHostProblem, "api.example.com", true},
		{"host", allowedHostProblem, "10.1.2.3", true},
		{"host", allowedHostProblem, "2001:db8::1", true},
		{"host", allowedHostProblem, "xn--bcher-kva.example", true},
		{"host", allowedHostProblem, "API.example.com", false},
		{"host", allowedHostProblem, "[2001:db8::1]", false},
		{"host", allowedHostProblem, "2001:DB8::1", false},
		{"host", allowedHostProblem, "api.example.com:443", false},
		{"host", allowedHostProblem, "https://api.example.com", false},
		{"host", allowedHostProblem, "*.example.com", false},
		{"outbound", outboundURLProblem, "https://hooks.example.com/x", true},
		{"outbound", outboundURLProblem, "ftp://hooks.example.com/x", false},
		{"outbound", outboundURLProblem, "https://u:p@hooks.example.com/x", false},
		{"outbound", outboundURLProblem, " https://hooks.example.com/x", false},
		{"id", idProblem, "0190c1f0-8a4e-7c3b-9d2e-5f6a7b8c9d0e", true},
		{"id", idProblem, "0190c1f0-8a4e-7c3b-9d2e", false},
		{"id", idProblem, "0190c1f0x8a4e-7c3b-9d2e-5f6a7b8c9d0e", false},
		{"id", idProblem, "g190c1f0-8a4e-7c3b-9d2e-5f6a7b8c9d0e", false},
	}
	for _, c := range cases {
		problem := c.check(c.value)
		if (problem == "") != c.ok {
			t.Errorf("%s %q: problem %q, want accepted=%v", c.rule, c.value, problem, c.ok)
		}
	}
}

func TestWebhookSecretAndEmailPatterns(t *testing.T) {
	for value, ok := range map[string]bool{
		"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw": true,
		"whsec_short":                            false,
		"MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw":       false,
	} {
		if webhookSecretPattern.MatchString(value) != ok {
			t.Errorf("signing secret %q: want accepted=%v", value, ok)
		}
	}
	for value, ok := range map[string]bool{
		"auditors@example.com": true,
		"Auditors@example.com": false,
		"not an address":       false,
	} {
		if emailPattern.MatchString(value) != ok {
			t.Errorf("email %q: want accepted=%v", value, ok)
		}
	}
}
