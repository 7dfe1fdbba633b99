// Package debpkg holds the tests of the Debian package that
// packaging/build-deb.sh builds (`make deb`): its contents and control
// data, lintian, the systemd units (systemd-analyze verify and security),
// and a real install, service start, upgrade, remove and purge with dpkg
// inside a throwaway mount and network namespace, where /etc, /usr and
// /var are overlays on the host's and vanish with the namespace. There is
// no code here besides the tests.
package debpkg
