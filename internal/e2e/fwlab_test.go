package e2e

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vpnkeys/vpnkeys/internal/testenv"
)

// denyWait is how long a probe waits before it calls a destination
// unreachable: the ruleset drops, so silence is the answer.
const denyWait = 1500 * time.Millisecond

// fwLab is the network of the firewall tests. The office is a namespace
// of its own holding the office's servers (addresses on its lo). Each
// datacenter gets a namespace of its own (newFleetWith's prepare): its
// OpenVPN server forwards between its tun device and a veth to the
// office, and its agent loads the ruleset there (--nft runs nft inside
// it), so the three tables `inet vpnkeys` never meet. Each client is an
// OpenVPN client on a real tun device in a namespace of its own, linked
// to its datacenter by a veth: its packets to the office go through the
// tunnel and the datacenter's forward hook.
type fwLab struct {
	ip, nft, office string
	mu              sync.Mutex
	links           int
}

func newFwLab(t testing.TB) *fwLab {
	l := &fwLab{ip: testenv.LookPath(t, "/usr/sbin/ip", "/sbin/ip", "ip"), nft: testenv.Nft(t)}
	l.office = testenv.NewPlainNetns(t, "fwoffice")
	for _, a := range []string{"10.1.0.10/32", "10.2.0.10/32"} {
		l.run(t, "-n", l.office, "addr", "add", a, "dev", "lo")
	}
	return l
}

// run runs ip with args.
func (l *fwLab) run(t testing.TB, args ...string) {
	t.Helper()
	if out, err := exec.Command(l.ip, args...).CombinedOutput(); err != nil {
		t.Fatalf("ip %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// sysctl sets net.* keys ("ipv4/ip_forward=1") inside namespace ns.
func (l *fwLab) sysctl(t testing.TB, ns, kv string) {
	t.Helper()
	k, v, _ := strings.Cut(kv, "=")
	l.run(t, "netns", "exec", ns, "sh", "-c", "echo "+v+" >/proc/sys/net/"+k)
}

// prepare gives datacenter d (dc1 is number 0) its namespace, a veth to
// the office (172.16.N.0/30) with routes both ways, forwarding, and an
// nft that runs inside it for its agent.
func (l *fwLab) prepare(t testing.TB, d *datacenter) {
	t.Helper()
	n := d.port - 11960
	d.ns = &netns{testenv.NewNetns(t, "fwdc")}
	dc, peer := d.ns.Name, fmt.Sprintf("dc%d", n)
	l.run(t, "-n", dc, "link", "add", "off", "type", "veth", "peer", "name", peer, "netns", l.office)
	l.run(t, "-n", dc, "addr", "add", fmt.Sprintf("172.16.%d.1/30", n), "dev", "off")
	l.run(t, "-n", dc, "link", "set", "off", "up")
	l.run(t, "-n", l.office, "addr", "add", fmt.Sprintf("172.16.%d.2/30", n), "dev", peer)
	l.run(t, "-n", l.office, "link", "set", peer, "up")
	for _, office := range []string{"10.1.0.0/16", "10.2.0.0/16"} {
		l.run(t, "-n", dc, "route", "add", office, "via", fmt.Sprintf("172.16.%d.2", n))
	}
	l.run(t, "-n", l.office, "route", "add", fmt.Sprintf("10.%d.0.0/24", 60+n), "via", fmt.Sprintf("172.16.%d.1", n))
	l.sysctl(t, dc, "ipv4/ip_forward=1")
	d.agentArgs = []string{"--nft", l.nftIn(t, dc)}
}

// nftIn writes an nft that runs the real one inside namespace ns.
func (l *fwLab) nftIn(t testing.TB, ns string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "nft")
	if err := os.WriteFile(p, []byte("#!/bin/sh\nexec "+l.ip+" netns exec "+ns+" "+l.nft+" \"$@\"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

// vpnClient is a connected OpenVPN client on a real tun device.
type vpnClient struct {
	user, ns string
	d        *datacenter
	addr     netip.Addr // its VPN address, pushed by its client-config file
	proc     *testenv.Proc
}

// connect starts user's client (profile narrowed to d) in a namespace of
// its own, once d's agent wrote the user's client-config file, and routes
// all of 10.0.0.0/8 into the tunnel, so a destination the user's groups
// do not allow is judged by the server's firewall, not by a missing route.
func (l *fwLab) connect(t testing.TB, f *fleet, user, profile string, d *datacenter) *vpnClient {
	t.Helper()
	waitFile(t, filepath.Join(d.dir, "ccd", user), d.agent)
	l.mu.Lock()
	k := l.links
	l.links++
	l.mu.Unlock()
	cns := testenv.NewNetns(t, "fwc")
	srv, cli := fmt.Sprintf("172.17.%d.%d", k/64, 4*(k%64)+1), fmt.Sprintf("172.17.%d.%d", k/64, 4*(k%64)+2)
	link := fmt.Sprintf("c%d", k)
	l.run(t, "-n", d.ns.Name, "link", "add", link, "type", "veth", "peer", "name", "uplink", "netns", cns.Name)
	l.run(t, "-n", d.ns.Name, "addr", "add", srv+"/30", "dev", link)
	l.run(t, "-n", d.ns.Name, "link", "set", link, "up")
	l.run(t, "-n", cns.Name, "addr", "add", cli+"/30", "dev", "uplink")
	l.run(t, "-n", cns.Name, "link", "set", "uplink", "up")
	b, err := os.ReadFile(f.profileFor(t, profile, d))
	if err != nil {
		t.Fatal(err)
	}
	prof := filepath.Join(t.TempDir(), user+".ovpn")
	if err := os.WriteFile(prof, []byte(strings.ReplaceAll(string(b), "remote 127.0.0.1 ", "remote "+srv+" ")), 0o600); err != nil {
		t.Fatal(err)
	}
	c := &vpnClient{user: user, ns: cns.Name, d: d}
	c.proc = cns.OpenVPN(t, "--config", prof, "--dev", "tun0", "--verb", "3")
	if c.proc.WaitFor(30*time.Second, ready, "Exiting due to fatal error") != ready {
		t.Fatalf("%s could not connect to %s:\n%s\nserver:\n%s", user, d.name, c.proc.Log(), d.vpn.Log())
	}
	out, err := exec.Command(l.ip, "-n", cns.Name, "-4", "-o", "addr", "show", "dev", "tun0").CombinedOutput()
	fields := strings.Fields(string(out))
	for i, w := range fields {
		if w == "inet" && i+1 < len(fields) {
			if p, perr := netip.ParsePrefix(fields[i+1]); perr == nil {
				c.addr = p.Addr()
			}
		}
	}
	if err != nil || !c.addr.IsValid() {
		t.Fatalf("%s's VPN address on %s: %v\n%s", user, d.name, err, out)
	}
	l.run(t, "-n", cns.Name, "route", "add", "10.0.0.0/8", "dev", "tun0")
	return c
}

// serve starts echo servers in the office on targets ("tcp/10.1.0.10:22",
// "udp/10.1.0.10:53"), closed when the test ends.
func (l *fwLab) serve(t testing.TB, targets ...string) {
	t.Helper()
	for _, tg := range targets {
		proto, addr, _ := strings.Cut(tg, "/")
		err := testenv.InNetns(l.office, func() error {
			if proto == "udp" {
				pc, err := net.ListenPacket("udp", addr)
				if err != nil {
					return err
				}
				t.Cleanup(func() { pc.Close() })
				go echoUDP(pc)
				return nil
			}
			ln, err := net.Listen("tcp", addr)
			if err != nil {
				return err
			}
			t.Cleanup(func() { ln.Close() })
			go echoTCP(ln)
			return nil
		})
		if err != nil {
			t.Fatalf("listening on %s in the office: %v", tg, err)
		}
	}
}

func echoTCP(ln net.Listener) {
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		go func() { defer c.Close(); io.Copy(c, c) }()
	}
}

func echoUDP(pc net.PacketConn) {
	buf := make([]byte, 512)
	for {
		n, from, err := pc.ReadFrom(buf)
		if err != nil {
			return
		}
		pc.WriteTo(buf[:n], from)
	}
}

// dial opens a connection from c's VPN address, in c's namespace, to
// target ("tcp/10.1.0.10:22"), waiting at most wait.
func (c *vpnClient) dial(target string, wait time.Duration) (net.Conn, error) {
	proto, addr, _ := strings.Cut(target, "/")
	var conn net.Conn
	err := testenv.InNetns(c.ns, func() error {
		d := net.Dialer{Timeout: wait, LocalAddr: &net.TCPAddr{IP: c.addr.AsSlice()}}
		if proto == "udp" {
			d.LocalAddr = &net.UDPAddr{IP: c.addr.AsSlice()}
		}
		var err error
		conn, err = d.Dial(proto, addr)
		return err
	})
	return conn, err
}

// exchange writes msg on conn and reports whether it comes back in time.
func exchange(conn net.Conn, msg string, wait time.Duration) bool {
	conn.SetDeadline(time.Now().Add(wait))
	if _, err := conn.Write([]byte(msg)); err != nil {
		return false
	}
	buf := make([]byte, len(msg))
	_, err := io.ReadFull(conn, buf)
	return err == nil && string(buf) == msg
}

// probe reports whether c reaches target: a TCP connection or a UDP
// datagram that is echoed. An error other than a timeout is returned: it
// means the lab is broken, not that the firewall dropped.
func (c *vpnClient) probe(target string) (bool, error) {
	conn, err := c.dial(target, denyWait)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("%s on %s -> %s: %w", c.user, c.d.name, target, err)
	}
	defer conn.Close()
	return exchange(conn, "probe from "+c.user, denyWait), nil
}
