package ovpn

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"text/template"
)

//go:embed templates/server.conf.tmpl
var serverFS embed.FS

// ServerTemplateName is the file that overrides the built-in server.conf
// template in a templates folder.
const ServerTemplateName = "server.conf.tmpl"

// ServerData feeds server.conf.tmpl.
type ServerData struct {
	Name    string
	Remote  Remote
	Network string // e.g. 10.8.0.0
	Netmask string // e.g. 255.255.255.0
	// Pushed to clients (set with WithPush): routes, DNS servers, domain.
	PushRoutes []Route
	DNS        []string
	Domain     string
	// RunDir is the folder of the management socket (RunDir/NAME.sock)
	// and of the session files vpnkeys-session.sh writes for the agent;
	// "" leaves both out. Check it with ValidRunDir.
	RunDir string
	// Device is the tun device's name (DeviceName of Name when empty):
	// the firewall's ruleset names it.
	Device string
	// TLSMode protects the control channel; "" is TLSCrypt.
	TLSMode TLSMode
}

// devicePrefix starts every device name DeviceName gives.
const devicePrefix = "vpn-"

// DeviceName is the tun device of server name: "vpn-NAME" when that fits
// in an interface name (15 bytes), else "vpn-" and the first 11 hex
// digits of NAME's SHA-256. Server names are lower-case a-z, 0-9, '.',
// '_' and '-', all valid in interface names; distinct servers on one host
// get distinct devices.
func DeviceName(name string) string {
	const room = 15 - len(devicePrefix)
	if len(name) <= room {
		return devicePrefix + name
	}
	h := sha256.Sum256([]byte(name))
	return devicePrefix + hex.EncodeToString(h[:])[:room]
}

// ParseSubnet splits CIDR into the network and netmask `server` takes.
func ParseSubnet(cidr string) (network, netmask string, err error) {
	ip, n, err := net.ParseCIDR(cidr)
	if err != nil || ip.To4() == nil {
		return "", "", fmt.Errorf("%w: subnet %q: want an IPv4 CIDR such as 10.8.0.0/24", ErrRemote, cidr)
	}
	ones, _ := n.Mask.Size()
	if ones < 8 || ones > 29 {
		return "", "", fmt.Errorf("%w: subnet %q: prefix length must be 8 to 29", ErrRemote, cidr)
	}
	return n.IP.String(), net.IP(n.Mask).String(), nil
}

// RenderServerConfig renders server.conf from the template in dir (when dir
// is not empty and holds server.conf.tmpl) or the built-in one.
func RenderServerConfig(dir string, d ServerData) ([]byte, error) {
	var t *template.Template
	var err error
	custom := filepath.Join(dir, ServerTemplateName)
	if _, statErr := os.Stat(custom); dir != "" && statErr == nil {
		t, err = template.New(ServerTemplateName).Option("missingkey=error").ParseFiles(custom)
	} else if dir != "" && !errors.Is(statErr, os.ErrNotExist) {
		return nil, fmt.Errorf("reading %s: %w", custom, statErr)
	} else {
		t, err = template.New(ServerTemplateName).Option("missingkey=error").ParseFS(serverFS, "templates/"+ServerTemplateName)
	}
	if err != nil {
		return nil, fmt.Errorf("parsing server template: %w", err)
	}
	if d.RunDir != "" {
		if err := checkRunDir(d.RunDir, d.Name); err != nil {
			return nil, err
		}
	}
	if d.Device == "" {
		d.Device = DeviceName(d.Name)
	}
	var b bytes.Buffer
	if err := t.Execute(&b, d); err != nil {
		return nil, fmt.Errorf("rendering server.conf: %w", err)
	}
	return b.Bytes(), nil
}
