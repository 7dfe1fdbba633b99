module github.com/vpnkeys/vpnkeys

go 1.25.0
