package authority

import (
	"testing"

	"github.com/vpnkeys/vpnkeys/internal/store/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }
