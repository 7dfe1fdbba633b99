package web

// linkText is the link pages' own wording in each language the readmes
// use; the instructions themselves come from the readme templates.
var linkText = map[string]map[string]string{
	"en": {
		"renew": "This link renews your VPN access: downloading issues a new profile, and the old one stops working.",
		"stale": "This renewal link is out of date", "stale_msg": "Your VPN access was renewed or revoked since this link was sent.",
		"title": "VPN access for %s", "once": "This link works once and expires on %s. Downloading uses it up: keep the file safe.",
		"download": "Download %s.ovpn", "zip": "Download everything (.zip)",
		"used": "This link was already used", "used_msg": "Each link works only once, and this one has been used.",
		"expired": "This link has expired", "expired_msg": "Links stop working after a while, for your safety.",
		"inactive": "This access is no longer active", "inactive_msg": "The VPN access behind this link was revoked or has expired.",
		"unknown": "Link not found", "unknown_msg": "This link does not exist.",
		"error": "Something went wrong", "error_msg": "The link could not be served right now.",
		"ask": "Ask %s for a new link.", "admin": "your administrator",
		"qr": "On your phone? Scan this code to open this page there.", "qr_label": "QR code of this page's address",
	},
	"es": {
		"renew": "Este enlace renueva su acceso VPN: al descargar recibe un perfil nuevo y el antiguo deja de funcionar.",
		"stale": "Este enlace de renovación está desfasado", "stale_msg": "Su acceso VPN se renovó o se revocó después de enviarse este enlace.",
		"title": "Acceso VPN para %s", "once": "Este enlace funciona una vez y caduca el %s. Al descargar se gasta: guarde bien el archivo.",
		"download": "Descargar %s.ovpn", "zip": "Descargar todo (.zip)",
		"used": "Este enlace ya se usó", "used_msg": "Cada enlace funciona una sola vez, y este ya se ha usado.",
		"expired": "Este enlace ha caducado", "expired_msg": "Por su seguridad, los enlaces dejan de funcionar al cabo de un tiempo.",
		"inactive": "Este acceso ya no está activo", "inactive_msg": "El acceso VPN de este enlace se revocó o ha caducado.",
		"unknown": "Enlace no encontrado", "unknown_msg": "Este enlace no existe.",
		"error": "Algo salió mal", "error_msg": "No se pudo servir el enlace ahora mismo.",
		"ask": "Pida un enlace nuevo a %s.", "admin": "su administrador",
		"qr": "¿En su teléfono? Escanee este código para abrir allí esta página.", "qr_label": "Código QR de la dirección de esta página",
	},
	"fr": {
		"renew": "Ce lien renouvelle votre accès VPN : le téléchargement donne un nouveau profil, et l'ancien cesse de fonctionner.",
		"stale": "Ce lien de renouvellement est périmé", "stale_msg": "Votre accès VPN a été renouvelé ou révoqué depuis l'envoi de ce lien.",
		"title": "Accès VPN pour %s", "once": "Ce lien fonctionne une fois et expire le %s. Le téléchargement l'épuise : gardez le fichier en lieu sûr.",
		"download": "Télécharger %s.ovpn", "zip": "Tout télécharger (.zip)",
		"used": "Ce lien a déjà servi", "used_msg": "Chaque lien ne fonctionne qu'une fois, et celui-ci a déjà été utilisé.",
		"expired": "Ce lien a expiré", "expired_msg": "Pour votre sécurité, les liens cessent de fonctionner au bout d'un moment.",
		"inactive": "Cet accès n'est plus actif", "inactive_msg": "L'accès VPN derrière ce lien a été révoqué ou a expiré.",
		"unknown": "Lien introuvable", "unknown_msg": "Ce lien n'existe pas.",
		"error": "Un problème est survenu", "error_msg": "Le lien ne peut pas être servi pour le moment.",
		"ask": "Demandez un nouveau lien à %s.", "admin": "votre administrateur",
		"qr": "Sur votre téléphone ? Scannez ce code pour y ouvrir cette page.", "qr_label": "Code QR de l'adresse de cette page",
	},
	"de": {
		"renew": "Dieser Link verlängert Ihren VPN-Zugang: Beim Herunterladen erhalten Sie ein neues Profil, das alte funktioniert dann nicht mehr.",
		"stale": "Dieser Verlängerungslink ist veraltet", "stale_msg": "Ihr VPN-Zugang wurde seit dem Versand dieses Links verlängert oder gesperrt.",
		"title": "VPN-Zugang für %s", "once": "Dieser Link funktioniert einmal und läuft am %s ab. Das Herunterladen verbraucht ihn: Bewahren Sie die Datei sicher auf.",
		"download": "%s.ovpn herunterladen", "zip": "Alles herunterladen (.zip)",
		"used": "Dieser Link wurde schon benutzt", "used_msg": "Jeder Link funktioniert nur einmal, und dieser wurde bereits benutzt.",
		"expired": "Dieser Link ist abgelaufen", "expired_msg": "Zu Ihrer Sicherheit funktionieren Links nur eine Zeit lang.",
		"inactive": "Dieser Zugang ist nicht mehr aktiv", "inactive_msg": "Der VPN-Zugang hinter diesem Link wurde gesperrt oder ist abgelaufen.",
		"unknown": "Link nicht gefunden", "unknown_msg": "Diesen Link gibt es nicht.",
		"error": "Etwas ist schiefgegangen", "error_msg": "Der Link kann gerade nicht ausgeliefert werden.",
		"ask": "Bitten Sie %s um einen neuen Link.", "admin": "Ihren Administrator",
		"qr": "Auf dem Telefon? Scannen Sie diesen Code, um diese Seite dort zu öffnen.", "qr_label": "QR-Code der Adresse dieser Seite",
	},
	"ru": {
		"renew": "Эта ссылка продлевает ваш доступ к VPN: при скачивании вы получите новый профиль, а старый перестанет работать.",
		"stale": "Ссылка на продление устарела", "stale_msg": "После отправки этой ссылки ваш доступ к VPN продлили или отозвали.",
		"title": "Доступ к VPN для %s", "once": "Ссылка работает один раз и действует до %s. Скачивание её расходует: сохраните файл в надёжном месте.",
		"download": "Скачать %s.ovpn", "zip": "Скачать всё (.zip)",
		"used": "Эта ссылка уже использована", "used_msg": "Каждая ссылка работает только один раз, и эта уже использована.",
		"expired": "Срок действия ссылки истёк", "expired_msg": "Ради вашей безопасности ссылки действуют ограниченное время.",
		"inactive": "Этот доступ больше не активен", "inactive_msg": "Доступ к VPN по этой ссылке отозван или истёк.",
		"unknown": "Ссылка не найдена", "unknown_msg": "Такой ссылки не существует.",
		"error": "Что-то пошло не так", "error_msg": "Сейчас не удалось открыть ссылку.",
		"ask": "Попросите новую ссылку у %s.", "admin": "вашего администратора",
		"qr": "Нужно на телефоне? Отсканируйте этот код, чтобы открыть эту страницу там.", "qr_label": "QR-код адреса этой страницы",
	},
}

// textsFor returns the wording in lang, English when it has none.
func textsFor(lang string) map[string]string {
	if t, ok := linkText[lang]; ok {
		return t
	}
	return linkText["en"]
}
