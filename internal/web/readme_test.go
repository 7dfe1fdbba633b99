package web

import (
	"bytes"
	"strings"
	"testing"
)

// TestUnwrapReadme: paragraphs become one line each (the browser wraps
// them), while headings, list items and commands keep their lines.
func TestUnwrapReadme(t *testing.T) {
	in := "Hola, Ana:\n\nEsta carpeta le da acceso a la VPN como \"ana\".\nSu acceso es válido hasta el 2027-01-01.\n\n" +
		"El archivo ana.ovpn es todo lo que necesita: contiene la configuración,\nsu certificado y su clave privada.\n\n" +
		"Linux (Debian, Ubuntu)\n----------------------\n1. Instale el cliente:\n     sudo apt install openvpn\n" +
		"2. Importe el perfil en NetworkManager y conéctese desde el menú de red:\n     nmcli connection import type openvpn file ana.ovpn\n" +
		"3. Haga doble clic en ana.ovpn. Tunnelblick pregunta si instalar la\n   configuración para \"Solo yo\".\n"
	got := unwrapReadme(in)
	for _, want := range []string{
		"\nEsta carpeta le da acceso a la VPN como \"ana\". Su acceso es válido hasta el 2027-01-01.\n",
		"\nEl archivo ana.ovpn es todo lo que necesita: contiene la configuración, su certificado y su clave privada.\n",
		"\nLinux (Debian, Ubuntu)\n----------------------\n1. Instale el cliente:\n     sudo apt install openvpn\n",
		"\n3. Haga doble clic en ana.ovpn. Tunnelblick pregunta si instalar la configuración para \"Solo yo\".\n",
		"Hola, Ana:\n\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("got:\n%s\nwant it to contain:\n%s", got, want)
		}
	}
}

// TestLoginNamesProduct: the sign-in page names vpnkeys and the company.
func TestLoginNamesProduct(t *testing.T) {
	e := newEnv(t, nil)
	resp, body := e.do(t, "GET", "/login", "", "")
	if resp.StatusCode != 200 || !strings.Contains(string(body), "vpnkeys") || !strings.Contains(string(body), "VPN administration") {
		t.Fatalf("login page: %d\n%s", resp.StatusCode, body)
	}
	var b bytes.Buffer
	if err := uiPages()["login"].ExecuteTemplate(&b, "layout", loginData{page: page{Title: "Sign in"}, Company: "Example Ltd"}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "Example Ltd's VPN administration") {
		t.Fatalf("login page with a company: want it named:\n%s", b.String())
	}
}
