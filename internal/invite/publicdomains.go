package invite

import (
	"fmt"
	"strings"
)

// publicMailDomains are domains where anyone can get an address: a
// whole-domain invitation for one of them invites the world. The list
// names the large providers and their common country domains; it cannot be
// complete, so administrators still check what they invite.
var publicMailDomains = wordSet(`
		gmail.com googlemail.com
		outlook.com outlook.fr outlook.de outlook.es outlook.it outlook.jp
		hotmail.com hotmail.co.uk hotmail.fr hotmail.de hotmail.es hotmail.it
		live.com live.co.uk live.fr live.de live.nl msn.com passport.com
		yahoo.com yahoo.co.uk yahoo.fr yahoo.de yahoo.es yahoo.it yahoo.co.jp yahoo.com.br yahoo.ca yahoo.in ymail.com rocketmail.com
		icloud.com me.com mac.com
		proton.me protonmail.com protonmail.ch pm.me
		aol.com aim.com
		gmx.com gmx.net gmx.de gmx.at gmx.ch web.de mail.com email.com
		zoho.com zohomail.com yandex.com yandex.ru ya.ru mail.ru bk.ru inbox.ru list.ru
		qq.com 163.com 126.com yeah.net sina.com naver.com daum.net hanmail.net
		tutanota.com tutanota.de tuta.io tuta.com fastmail.com fastmail.fm hey.com
		mailbox.org posteo.de posteo.net disroot.org hushmail.com
		t-online.de freenet.de orange.fr wanadoo.fr free.fr laposte.net sfr.fr
		libero.it virgilio.it btinternet.com sky.com comcast.net verizon.net att.net
		rediffmail.com seznam.cz wp.pl o2.pl onet.pl interia.pl
`)

func wordSet(words string) map[string]bool {
	set := map[string]bool{}
	for _, w := range strings.Fields(words) {
		set[w] = true
	}
	return set
}

// PublicMailDomain reports whether domain ("example.org" or
// "@example.org") belongs to a public mail provider, such as gmail.com or
// outlook.com. invitectl refuses whole-domain invitations for them unless
// told otherwise.
func PublicMailDomain(domain string) bool {
	return publicMailDomains[strings.ToLower(strings.TrimPrefix(domain, "@"))]
}

// CheckPublicDomain returns an error when k invites every address of a
// public mail provider, which would let anyone sign up.
func CheckPublicDomain(k Key) error {
	if k.IsDomain() && PublicMailDomain(k.Subject) {
		return fmt.Errorf("%s is a public mail provider: a whole-domain invitation would let anyone with an address there sign up; invite the addresses one by one, or give --allow-public-domain", k.Subject)
	}
	return nil
}
