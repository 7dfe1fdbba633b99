package firewall

import (
	"bytes"
	"context"
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
// unreachable: the ruleset drops (never rejects), so silence is the
// answer. Allowed probes answer in well under a millisecond over veth.
const denyWait = 2 * time.Second

// lab is the test's network: a client namespace holding the VPN
// addresses (the tunnel, simulated by a veth pair), a router forwarding
// between it and an office namespace, where nft loads the ruleset.
type lab struct {
	client, router, office string
	ip                     string
	nft                    string // runs nft inside the router namespace
	mu                     sync.Mutex
	received               map[string]*bytes.Buffer // office listener -> bytes it got
}

func newLab(t *testing.T) *lab {
	t.Helper()
	nft := testenv.Nft(t)
	l := &lab{
		client:   testenv.NewPlainNetns(t, "fw-client"),
		router:   testenv.NewPlainNetns(t, "fw-router"),
		office:   testenv.NewPlainNetns(t, "fw-office"),
		received: map[string]*bytes.Buffer{},
		ip:       testenv.LookPath(t, "/usr/sbin/ip", "/sbin/ip", "ip"),
	}
	for _, ns := range []string{l.client, l.router, l.office} {
		// No duplicate address detection: addresses (link-local ones too)
		// work at once, so no probe meets a half-ready link.
		l.sysctl(t, ns, "ipv6/conf/all/accept_dad=0", "ipv6/conf/default/accept_dad=0")
	}
	for _, c := range []string{
		"-n " + l.router + " link add r0 type veth peer name c0 netns " + l.client,
		"-n " + l.router + " link add r1 type veth peer name o0 netns " + l.office,
		"-n " + l.client + " addr add 10.8.0.2/24 dev c0",
		"-n " + l.client + " addr add 10.8.0.3/24 dev c0",
		"-n " + l.client + " addr add 10.8.0.4/24 dev c0",
		"-n " + l.client + " addr add 10.8.0.9/24 dev c0",
		"-n " + l.client + " addr add fd00:8::2/64 dev c0",
		"-n " + l.client + " link set c0 up",
		"-n " + l.client + " route add default via 10.8.0.1",
		"-n " + l.client + " -6 route add default via fd00:8::1",
		"-n " + l.router + " addr add 10.8.0.1/24 dev r0",
		"-n " + l.router + " addr add fd00:8::1/64 dev r0",
		"-n " + l.router + " addr add 10.1.0.1/16 dev r1",
		"-n " + l.router + " addr add 10.2.0.1/16 dev r1",
		"-n " + l.router + " addr add fd00:1::1/64 dev r1",
		"-n " + l.router + " link set r0 up",
		"-n " + l.router + " link set r1 up",
		"-n " + l.office + " addr add 10.1.0.10/16 dev o0",
		"-n " + l.office + " addr add 10.1.0.20/16 dev o0",
		"-n " + l.office + " addr add 10.2.0.10/16 dev o0",
		"-n " + l.office + " addr add fd00:1::10/64 dev o0",
		"-n " + l.office + " link set o0 up",
		"-n " + l.office + " route add default via 10.1.0.1",
		"-n " + l.office + " -6 route add default via fd00:1::1",
	} {
		if out, err := exec.Command(l.ip, strings.Fields(c)...).CombinedOutput(); err != nil {
			t.Fatalf("ip %s: %v\n%s", c, err, out)
		}
	}
	l.sysctl(t, l.router, "ipv4/ip_forward=1", "ipv6/conf/all/forwarding=1")
	// nftPath for Check and Apply: nft, run inside the router namespace.
	l.nft = filepath.Join(t.TempDir(), "nft")
	script := "#!/bin/sh\nexec " + l.ip + " netns exec " + l.router + " " + nft + " \"$@\"\n"
	if err := os.WriteFile(l.nft, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return l
}

// serve starts echo servers in the office namespace on each of targets
// ("tcp/10.1.0.10:22", "udp/10.1.0.10:53"; "icmp/..." needs none),
// closed when the test ends.
func (l *lab) serve(t *testing.T, targets []string) {
	t.Helper()
	l.mu.Lock()
	for _, tg := range targets {
		l.received[tg] = &bytes.Buffer{} // all before any server reads the map
	}
	l.mu.Unlock()
	for _, tg := range targets {
		proto, addr, _ := strings.Cut(tg, "/")
		if proto == "icmp" {
			continue // the office's kernel answers pings
		}
		err := testenv.InNetns(l.office, func() error {
			if proto == "udp" {
				pc, err := net.ListenPacket("udp", addr)
				if err != nil {
					return err
				}
				t.Cleanup(func() { pc.Close() })
				go l.echoUDP(tg, pc)
				return nil
			}
			ln, err := net.Listen("tcp", addr)
			if err != nil {
				return err
			}
			t.Cleanup(func() { ln.Close() })
			go l.acceptTCP(tg, ln)
			return nil
		})
		if err != nil {
			t.Fatalf("listening on %s in the office: %v", tg, err)
		}
	}
}

func (l *lab) acceptTCP(tg string, ln net.Listener) {
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		go func() {
			defer c.Close()
			buf := make([]byte, 512)
			for {
				n, err := c.Read(buf)
				if err != nil {
					return
				}
				l.got(tg, buf[:n])
				c.Write(buf[:n])
			}
		}()
	}
}

func (l *lab) echoUDP(tg string, pc net.PacketConn) {
	buf := make([]byte, 512)
	for {
		n, from, err := pc.ReadFrom(buf)
		if err != nil {
			return
		}
		l.got(tg, buf[:n])
		pc.WriteTo(buf[:n], from)
	}
}

func (l *lab) got(tg string, b []byte) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.received[tg].Write(b)
}

// officeGot reports whether the office listener tg received msg.
func (l *lab) officeGot(tg, msg string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Contains(l.received[tg].String(), msg)
}

// dial opens a connection from src in the client namespace to target.
func (l *lab) dial(src netip.Addr, target string) (net.Conn, error) {
	proto, addr, _ := strings.Cut(target, "/")
	var c net.Conn
	err := testenv.InNetns(l.client, func() error {
		d := net.Dialer{Timeout: denyWait}
		if proto == "udp" {
			d.LocalAddr = &net.UDPAddr{IP: src.AsSlice()}
		} else {
			d.LocalAddr = &net.TCPAddr{IP: src.AsSlice()}
		}
		var err error
		c, err = d.Dial(proto, addr)
		return err
	})
	return c, err
}

// exchange writes msg on c and reports whether it comes back.
func exchange(c net.Conn, msg string) bool {
	c.SetDeadline(time.Now().Add(denyWait))
	if _, err := c.Write([]byte(msg)); err != nil {
		return false
	}
	buf := make([]byte, len(msg))
	_, err := io.ReadFull(c, buf)
	return err == nil && string(buf) == msg
}

// probe reports whether src reaches target: a TCP connection or a UDP
// datagram that is echoed.
// Any error but a timeout means the lab is broken, not that nft dropped.
func (l *lab) probe(src netip.Addr, target string) (bool, error) {
	if dst, ok := strings.CutPrefix(target, "icmp/"); ok {
		return l.ping(src, netip.MustParseAddr(dst))
	}
	c, err := l.dial(src, target)
	if err != nil {
		var ne net.Error
		if !errors.As(err, &ne) || !ne.Timeout() {
			return false, fmt.Errorf("probe %s -> %s: %w", src, target, err)
		}
		return false, nil
	}
	defer c.Close()
	return exchange(c, "probe from "+src.String()), nil
}

// runNftOut runs nft with args and returns what it printed.
func runNftOut(ctx context.Context, nft string, args ...string) (string, error) {
	out, err := exec.CommandContext(ctx, nft, args...).CombinedOutput()
	return string(out), err
}

// sysctl sets net.* keys ("ipv4/ip_forward=1") in namespace ns through
// /proc/sys (procps' sysctl is not always installed).
func (l *lab) sysctl(t *testing.T, ns string, settings ...string) {
	t.Helper()
	var script []string
	for _, kv := range settings {
		k, v, _ := strings.Cut(kv, "=")
		script = append(script, "echo "+v+" >/proc/sys/net/"+k)
	}
	out, err := exec.Command(l.ip, "netns", "exec", ns, "sh", "-ec", strings.Join(script, "; ")).CombinedOutput()
	if err != nil {
		t.Fatalf("setting %v in %s: %v\n%s", settings, ns, err, out)
	}
}

// ping sends one ICMP echo request from src (IPv4) to dst over a raw
// socket in the client namespace and reports whether the reply comes.
func (l *lab) ping(src, dst netip.Addr) (bool, error) {
	var pc net.PacketConn
	err := testenv.InNetns(l.client, func() error {
		var err error
		pc, err = net.ListenPacket("ip4:icmp", src.String())
		return err
	})
	if err != nil {
		return false, fmt.Errorf("ping %s -> %s: %w", src, dst, err)
	}
	defer pc.Close()
	id := uint16(src.As4()[3])<<8 | uint16(dst.As4()[3])
	req := []byte{8, 0, 0, 0, byte(id >> 8), byte(id), 0, 1, 'v', 'p', 'n'}
	sum := 0
	for i := 0; i < len(req); i += 2 {
		w := int(req[i]) << 8
		if i+1 < len(req) {
			w |= int(req[i+1])
		}
		sum += w
	}
	for sum > 0xffff {
		sum = sum>>16 + sum&0xffff
	}
	req[2], req[3] = byte(^sum>>8), byte(^sum)
	if _, err := pc.WriteTo(req, &net.IPAddr{IP: dst.AsSlice()}); err != nil {
		return false, fmt.Errorf("ping %s -> %s: %w", src, dst, err)
	}
	pc.SetReadDeadline(time.Now().Add(denyWait))
	buf := make([]byte, 1500)
	for {
		n, from, err := pc.ReadFrom(buf)
		if err != nil {
			return false, nil // no reply in time: dropped
		}
		// An echo reply (type 0) from dst carrying our id.
		if from.String() == dst.String() && n >= 8 && buf[0] == 0 && uint16(buf[4])<<8|uint16(buf[5]) == id {
			return true, nil
		}
	}
}
