package authority

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/vpnkeys/vpnkeys/internal/access"
	"github.com/vpnkeys/vpnkeys/internal/account"
	"github.com/vpnkeys/vpnkeys/internal/store"
)

// checkMembers validates a group name and user names given to
// AddMembers or RemoveMembers.
func checkMembers(group string, users []string) error {
	if err := access.ValidGroupName(group); err != nil {
		return err
	}
	if len(users) == 0 {
		return fmt.Errorf("%w: no user given for group %s", account.ErrInvalid, group)
	}
	for _, u := range users {
		if err := account.ValidName(u); err != nil {
			return err
		}
	}
	return nil
}

// AddMembers puts users in a group, in one transaction: every user must
// exist, or nobody is added. Users already in the group stay.
func (a *Authority) AddMembers(ctx context.Context, group string, users ...string) (GroupView, error) {
	if err := checkMembers(group, users); err != nil {
		return GroupView{}, err
	}
	var g store.Group
	err := a.withRetry(ctx, func(q *store.Queries) error {
		if _, err := a.group(ctx, q, group); err != nil {
			return err
		}
		var added []string
		for _, u := range users {
			if _, err := q.GetUser(ctx, u); errors.Is(err, store.ErrNotFound) {
				return fmt.Errorf("%w: %s", ErrUserNotFound, u)
			} else if err != nil {
				return err
			}
			if ok, err := q.AddGroupMember(ctx, group, u); err != nil {
				return err
			} else if ok {
				added = append(added, u)
			}
		}
		if err := a.joined(ctx, q, group, added, "group.members.add"); err != nil {
			return err
		}
		var err error
		g, err = q.GetGroup(ctx, group)
		return err
	})
	return groupView(g), err
}

// RemoveMembers takes users out of a group, in one transaction: each must
// be a member, or nobody is taken out.
func (a *Authority) RemoveMembers(ctx context.Context, group string, users ...string) (GroupView, error) {
	if err := checkMembers(group, users); err != nil {
		return GroupView{}, err
	}
	var g store.Group
	err := a.withRetry(ctx, func(q *store.Queries) error {
		if _, err := a.group(ctx, q, group); err != nil {
			return err
		}
		for _, u := range users {
			if ok, err := q.DeleteGroupMember(ctx, group, u); err != nil {
				return err
			} else if !ok {
				if _, err := q.GetUser(ctx, u); errors.Is(err, store.ErrNotFound) {
					return fmt.Errorf("%w: %s", ErrUserNotFound, u)
				}
				return fmt.Errorf("%w: %s is not in group %s", ErrNotMember, u, group)
			}
		}
		if err := a.audit(ctx, q, "group.members.remove", group, map[string]any{"users": users}); err != nil {
			return err
		}
		if err := a.recordChange(ctx, q, ChangeGroup, group, map[string]any{"op": "members.remove"}); err != nil {
			return err
		}
		var err error
		g, err = q.GetGroup(ctx, group)
		return err
	})
	return groupView(g), err
}

// joined audits and announces users added to group ("" when none).
func (a *Authority) joined(ctx context.Context, q *store.Queries, group string, users []string, action string) error {
	if len(users) == 0 {
		return nil
	}
	if err := a.audit(ctx, q, action, group, map[string]any{"users": users}); err != nil {
		return err
	}
	return a.recordChange(ctx, q, ChangeGroup, group, map[string]any{"op": "members.add"})
}

// checkGroupsExist refuses group names that are not groups; the error
// names every missing one.
func (a *Authority) checkGroupsExist(ctx context.Context, groups []string) error {
	if len(groups) == 0 {
		return nil
	}
	have, err := a.db.Q().GroupNames(ctx)
	if err != nil {
		return err
	}
	var missing []string
	for _, g := range groups {
		if !slices.Contains(have, g) && !slices.Contains(missing, g) {
			missing = append(missing, g)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("%w: %s", ErrGroupNotFound, strings.Join(missing, ", "))
	}
	return nil
}

// grantAccess gives a batch's users a fixed address on every server and
// puts them in the groups their requests name, in the batch's
// transaction q (tryBatch), so a user is never on record without them.
func (a *Authority) grantAccess(ctx context.Context, q *store.Queries, batch []UserRequest) error {
	names := make([]string, len(batch))
	byGroup := map[string][]string{}
	for i, r := range batch {
		names[i] = r.Name
		for _, g := range r.Groups {
			byGroup[g] = append(byGroup[g], r.Name)
		}
	}
	given, err := allocateUsers(ctx, q, names)
	if err != nil {
		return err
	}
	groups := make([]string, 0, len(byGroup))
	for g := range byGroup {
		groups = append(groups, g)
	}
	slices.Sort(groups)
	for _, g := range groups {
		if _, err := a.group(ctx, q, g); err != nil {
			return err
		}
		var added []string
		for _, u := range byGroup[g] {
			if ok, err := q.AddGroupMember(ctx, g, u); err != nil {
				return err
			} else if ok {
				added = append(added, u)
			}
		}
		if err := a.joined(ctx, q, g, added, "group.members.add"); err != nil {
			return err
		}
	}
	servers := make([]string, 0, len(given))
	for s := range given {
		servers = append(servers, s)
	}
	slices.Sort(servers)
	for _, s := range servers { // one change per server and batch, not per user
		if err := a.recordChange(ctx, q, ChangeAddress, s, map[string]any{"op": "give", "count": given[s]}); err != nil {
			return err
		}
	}
	return nil
}

// freeAccess takes a removed user out of every group and frees their
// addresses, in transaction q (RemoveUser).
func (a *Authority) freeAccess(ctx context.Context, q *store.Queries, user string) (map[string]any, error) {
	groups, err := q.DeleteUserMemberships(ctx, user)
	if err != nil {
		return nil, err
	}
	addrs, err := q.UserAddresses(ctx, user)
	if err != nil {
		return nil, err
	}
	if _, err := q.DeleteUserAddresses(ctx, user); err != nil {
		return nil, err
	}
	for _, g := range groups {
		if err := a.recordChange(ctx, q, ChangeGroup, g, map[string]any{"op": "members.remove"}); err != nil {
			return nil, err
		}
	}
	for _, x := range addrs {
		if err := a.recordChange(ctx, q, ChangeAddress, x.Server, map[string]any{"op": "free", "user": user}); err != nil {
			return nil, err
		}
	}
	return map[string]any{"groups": groups, "addresses": len(addrs)}, nil
}

// validGroups checks the group names of a request.
func validGroups(groups []string) error {
	for _, g := range groups {
		if err := access.ValidGroupName(g); err != nil {
			return err
		}
	}
	return nil
}

// requestedGroups lists the groups named by any request.
func requestedGroups(reqs []UserRequest) []string {
	var out []string
	for _, r := range reqs {
		for _, g := range r.Groups {
			if !slices.Contains(out, g) {
				out = append(out, g)
			}
		}
	}
	return out
}

// knownGroups refuses groups not in have (a roster row naming a group
// that does not exist is refused, nothing issued for it).
func knownGroups(groups, have []string) error {
	var missing []string
	for _, g := range groups {
		if !slices.Contains(have, g) {
			missing = append(missing, g)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("%w: %s", ErrGroupNotFound, strings.Join(missing, ", "))
	}
	return nil
}

// inGroups tells whether r's user is in every group r names already (a
// roster row that would add a membership is not unchanged).
func (a *Authority) inGroups(ctx context.Context, r UserRequest) bool {
	if len(r.Groups) == 0 {
		return true
	}
	have, err := a.db.Q().UserGroups(ctx, r.Name)
	if err != nil {
		return false
	}
	for _, g := range r.Groups {
		if !slices.Contains(have, g) {
			return false
		}
	}
	return true
}
