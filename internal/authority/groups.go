package authority

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/vpnkeys/vpnkeys/internal/access"
	"github.com/vpnkeys/vpnkeys/internal/account"
	"github.com/vpnkeys/vpnkeys/internal/fault"
	"github.com/vpnkeys/vpnkeys/internal/store"
)

// Errors of groups and addresses.
var (
	ErrGroupNotFound = fault.New(fault.NotFound, "not_found", "no such group")
	ErrGroupExists   = fault.New(fault.Conflict, "exists", "a group with this name already exists")
	// ErrAllowsEverything refuses a rule whose destination is a whole
	// address family unless the caller confirms it is meant.
	ErrAllowsEverything = fault.New(fault.Invalid, "allows_everything", "rule allows every destination")
	ErrRuleNotFound     = fault.New(fault.NotFound, "not_found", "no such rule")
	ErrNotMember        = fault.New(fault.NotFound, "not_found", "not a member")
)

// GroupView is a group as every front end shows it.
type GroupView struct {
	Name        string    `json:"name"`
	Description string    `json:"description"`
	Rules       []string  `json:"rules"`
	Members     []string  `json:"members"`
	CreatedAt   time.Time `json:"created_at"`
}

func groupView(g store.Group) GroupView {
	v := GroupView{Name: g.Name, Description: g.Description, Rules: g.Rules, Members: g.Members, CreatedAt: g.CreatedAt}
	if v.Rules == nil {
		v.Rules = []string{}
	}
	if v.Members == nil {
		v.Members = []string{}
	}
	return v
}

// GroupChange edits a group in one transaction: rules to allow and to
// deny (take away), and a new description when not nil. IMeanIt lets a
// rule that allows every destination (0.0.0.0/0, ::/0) in.
type GroupChange struct {
	Name        string
	Allow       []string
	Deny        []string
	Description *string
	IMeanIt     bool
}

// parseRules parses rules into their canonical strings, refusing one that
// allows everything unless iMeanIt. Duplicates collapse.
func parseRules(rules []string, iMeanIt bool) ([]string, error) {
	var out []string
	for _, s := range rules {
		r, err := access.ParseRule(s)
		if err != nil {
			return nil, err
		}
		if r.AllowsEverything() && !iMeanIt {
			return nil, fmt.Errorf("%w: %s reaches the whole address family; confirm that it is meant", ErrAllowsEverything, r)
		}
		if c := r.String(); !slices.Contains(out, c) {
			out = append(out, c)
		}
	}
	return out, nil
}

func validDescription(d string) error {
	if err := account.ValidFullName(d); err != nil {
		msg := strings.Replace(strings.TrimPrefix(err.Error(), account.ErrInvalid.Error()+": "), "full name", "description", 1)
		return fmt.Errorf("%w: %s", account.ErrInvalid, msg)
	}
	return nil
}

// AddGroup creates a group with its rules: its members may reach what
// the rules allow, on every server.
func (a *Authority) AddGroup(ctx context.Context, name, description string, rules []string, iMeanIt bool) (GroupView, error) {
	if err := access.ValidGroupName(name); err != nil {
		return GroupView{}, err
	}
	if err := validDescription(description); err != nil {
		return GroupView{}, err
	}
	canon, err := parseRules(rules, iMeanIt)
	if err != nil {
		return GroupView{}, err
	}
	g := store.Group{Name: name, Description: description, CreatedAt: a.now(), Rules: canon}
	err = a.withRetry(ctx, func(q *store.Queries) error {
		if err := q.InsertGroup(ctx, g); errors.Is(err, store.ErrExists) {
			return fmt.Errorf("%w: %s", ErrGroupExists, name)
		} else if err != nil {
			return err
		}
		if err := a.audit(ctx, q, "group.add", name, map[string]any{"rules": canon, "description": description}); err != nil {
			return err
		}
		return a.recordChange(ctx, q, ChangeGroup, name, map[string]any{"op": "add"})
	})
	if err != nil {
		return GroupView{}, err
	}
	slices.Sort(g.Rules)
	return groupView(g), nil
}

// AllowRules adds rules to a group.
func (a *Authority) AllowRules(ctx context.Context, group string, rules []string, iMeanIt bool) (GroupView, error) {
	return a.EditGroup(ctx, GroupChange{Name: group, Allow: rules, IMeanIt: iMeanIt})
}

// DenyRules takes rules away from a group; each must be one of its rules
// (compared in canonical form).
func (a *Authority) DenyRules(ctx context.Context, group string, rules []string) (GroupView, error) {
	return a.EditGroup(ctx, GroupChange{Name: group, Deny: rules})
}

// EditGroup applies c in one transaction: nothing changes when any part
// is refused.
func (a *Authority) EditGroup(ctx context.Context, c GroupChange) (GroupView, error) {
	if err := access.ValidGroupName(c.Name); err != nil {
		return GroupView{}, err
	}
	allow, err := parseRules(c.Allow, c.IMeanIt)
	if err != nil {
		return GroupView{}, err
	}
	deny, err := parseRules(c.Deny, true)
	if err != nil {
		return GroupView{}, err
	}
	if c.Description != nil {
		if err := validDescription(*c.Description); err != nil {
			return GroupView{}, err
		}
	}
	if len(allow)+len(deny) == 0 && c.Description == nil {
		return GroupView{}, fmt.Errorf("%w: nothing to change in group %s: give rules to allow or deny, or a description", account.ErrInvalid, c.Name)
	}
	var g store.Group
	err = a.withRetry(ctx, func(q *store.Queries) error {
		if err := a.editGroup(ctx, q, c, allow, deny); err != nil {
			return err
		}
		var err error
		g, err = q.GetGroup(ctx, c.Name)
		return err
	})
	return groupView(g), err
}

func (a *Authority) editGroup(ctx context.Context, q *store.Queries, c GroupChange, allow, deny []string) error {
	if _, err := a.group(ctx, q, c.Name); err != nil {
		return err
	}
	for _, r := range deny {
		if gone, err := q.DeleteGroupRule(ctx, c.Name, r); err != nil {
			return err
		} else if !gone {
			return fmt.Errorf("%w: group %s has no rule %s", ErrRuleNotFound, c.Name, r)
		}
	}
	var added []string
	for _, r := range allow {
		if ok, err := q.AddGroupRule(ctx, c.Name, r); err != nil {
			return err
		} else if ok {
			added = append(added, r)
		}
	}
	if c.Description != nil {
		if err := q.SetGroupDescription(ctx, c.Name, *c.Description); err != nil {
			return err
		}
		if err := a.audit(ctx, q, "group.set", c.Name, map[string]any{"description": *c.Description}); err != nil {
			return err
		}
	}
	if len(added) > 0 {
		if err := a.audit(ctx, q, "group.allow", c.Name, map[string]any{"rules": added}); err != nil {
			return err
		}
	}
	if len(deny) > 0 {
		if err := a.audit(ctx, q, "group.deny", c.Name, map[string]any{"rules": deny}); err != nil {
			return err
		}
	}
	return a.recordChange(ctx, q, ChangeGroup, c.Name, map[string]any{"op": "edit"})
}

// group loads a group, ErrGroupNotFound when there is none.
func (a *Authority) group(ctx context.Context, q *store.Queries, name string) (store.Group, error) {
	g, err := q.GetGroup(ctx, name)
	if errors.Is(err, store.ErrNotFound) {
		return g, fmt.Errorf("%w: %s", ErrGroupNotFound, name)
	}
	return g, err
}

// Group returns one group with its rules and members.
func (a *Authority) Group(ctx context.Context, name string) (GroupView, error) {
	if err := access.ValidGroupName(name); err != nil {
		return GroupView{}, err
	}
	g, err := a.group(ctx, a.db.Q(), name)
	if err != nil {
		return GroupView{}, err
	}
	return groupView(g), nil
}

// Groups lists every group by name.
func (a *Authority) Groups(ctx context.Context) ([]GroupView, error) {
	list, err := a.db.Q().ListGroups(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]GroupView, len(list))
	for i, g := range list {
		out[i] = groupView(g)
	}
	return out, nil
}

// RemoveGroup deletes a group, its rules and its memberships: its members
// lose what only it allowed, on every server.
func (a *Authority) RemoveGroup(ctx context.Context, name string) error {
	if err := access.ValidGroupName(name); err != nil {
		return err
	}
	return a.withRetry(ctx, func(q *store.Queries) error {
		g, err := a.group(ctx, q, name)
		if err != nil {
			return err
		}
		if err := q.DeleteGroup(ctx, name); err != nil {
			return err
		}
		if err := a.audit(ctx, q, "group.remove", name, map[string]any{"rules": g.Rules, "members": g.Members}); err != nil {
			return err
		}
		return a.recordChange(ctx, q, ChangeGroup, name, map[string]any{"op": "remove"})
	})
}
