package provider

// Helpers shared by the application, app mapping, script, script secret and event action
// resources: string sets to and from the API's JSON arrays, and validators built from a
// function that mirrors one of the server's rules.

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

// stringSet is the API's array as a set attribute (an empty array is an empty set, never null,
// so an attribute that defaults to [] reads back equal).
func stringSet(values []string) types.Set {
	elements := make([]types.String, 0, len(values))
	for _, v := range values {
		elements = append(elements, types.StringValue(v))
	}
	set, _ := types.SetValueFrom(context.Background(), types.StringType, elements)
	return set
}

// stringList is the API's array as a list attribute, keeping its order.
func stringList(values []string) types.List {
	elements := make([]types.String, 0, len(values))
	for _, v := range values {
		elements = append(elements, types.StringValue(v))
	}
	list, _ := types.ListValueFrom(context.Background(), types.StringType, elements)
	return list
}

// setStrings is a known set's elements for a request body; null or unknown gives an empty slice
// (the JSON `[]`), which is what every optional set of these resources means when left out.
func setStrings(ctx context.Context, set types.Set, diags *diag.Diagnostics) []string {
	out := []string{}
	if set.IsNull() || set.IsUnknown() {
		return out
	}
	diags.Append(set.ElementsAs(ctx, &out, false)...)
	return out
}

// listStrings is a known list's elements for a request body.
func listStrings(ctx context.Context, list types.List, diags *diag.Diagnostics) []string {
	out := []string{}
	if list.IsNull() || list.IsUnknown() {
		return out
	}
	diags.Append(list.ElementsAs(ctx, &out, false)...)
	return out
}

// stringRule is a string validator from a function that returns why a value is refused ("" when
// it is fine). The diagnostic lands on the attribute (or the set element) that holds the value.
type stringRule struct {
	description string
	problem     func(string) string
}

var _ validator.String = stringRule{}

func (r stringRule) Description(context.Context) string         { return r.description }
func (r stringRule) MarkdownDescription(context.Context) string { return r.description }

func (r stringRule) ValidateString(_ context.Context, req validator.StringRequest, resp *validator.StringResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	if problem := r.problem(req.ConfigValue.ValueString()); problem != "" {
		resp.Diagnostics.AddAttributeError(req.Path, "Invalid value", fmt.Sprintf("%q %s.", req.ConfigValue.ValueString(), problem))
	}
}

// loopbackHosts may use plain http in a redirect URI (RFC 8252 §7.3), as the server allows.
var loopbackHosts = map[string]bool{"localhost": true, "127.0.0.1": true, "[::1]": true}

// parseRegisteredURI mirrors the server's rule for every URI an application registers:
// absolute, without a fragment or credentials. The URL, or why not.
func parseRegisteredURI(value string) (*url.URL, string) {
	u, err := url.Parse(value)
	if err != nil || !u.IsAbs() || u.Host == "" {
		return nil, "must be an absolute URL"
	}
	if strings.Contains(value, "#") {
		return nil, "must not contain a fragment"
	}
	if u.User != nil {
		return nil, "must not contain credentials"
	}
	return u, ""
}

// redirectURIProblem mirrors the server's rule for (post-logout) redirect URIs.
func redirectURIProblem(value string) string {
	u, problem := parseRegisteredURI(value)
	if problem != "" {
		return problem
	}
	switch u.Scheme {
	case "https":
		return ""
	case "http":
		host := strings.ToLower(u.Host)
		if h, _, err := net.SplitHostPort(host); err == nil {
			host = h
			if strings.Contains(host, ":") {
				host = "[" + host + "]"
			}
		}
		if loopbackHosts[host] {
			return ""
		}
		return "uses http, which is allowed only for localhost, 127.0.0.1 and [::1]; use https"
	default:
		return "must use https (or http on a loopback host)"
	}
}

// outboundURLProblem is the shape check for webhook and Slack URLs; the server also refuses
// non-public hosts (unless it allows private ones, as in development), which only it can judge.
func outboundURLProblem(value string) string {
	u, err := url.Parse(value)
	if err != nil || !u.IsAbs() || u.Host == "" {
		return "must be an absolute URL"
	}
	if u.Scheme != "https" && u.Scheme != "http" {
		return "must be an https URL"
	}
	if u.User != nil {
		return "must not carry a user name or password"
	}
	if strings.TrimSpace(value) != value {
		return "must not start or end with white space"
	}
	return ""
}

// idProblem: ids in Interim are UUIDs; a typo is caught at plan time instead of as a 400.
func idProblem(value string) string {
	if len(value) != 36 || strings.Count(value, "-") != 4 {
		return "is not an Interim id (a UUID)"
	}
	for i, c := range value {
		if i == 8 || i == 13 || i == 18 || i == 23 {
			if c != '-' {
				return "is not an Interim id (a UUID)"
			}
			continue
		}
		if !strings.ContainsRune("0123456789abcdefABCDEF", c) {
			return "is not an Interim id (a UUID)"
		}
	}
	return ""
}

var idRule = stringRule{description: "must be an Interim id (a UUID)", problem: idProblem}

// backchannelLogoutURIProblem: the shape the server checks first (the server also applies its outbound policy: https, public hosts).
func backchannelLogoutURIProblem(value string) string {
	u, problem := parseRegisteredURI(value)
	if problem != "" {
		return problem
	}
	if u.Scheme != "https" && u.Scheme != "http" {
		return "must use https"
	}
	return ""
}
