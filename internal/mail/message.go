package mail

import (
	"fmt"
	"io"
	"strings"

	gomail "github.com/wneessen/go-mail"
)

// Message is one invitation message, ready to send.
type Message struct {
	From, To string
	Content
}

// mime builds the MIME message: multipart/alternative with the plain-text
// part first and the HTML part second, UTF-8, with Date and Message-ID.
func (m Message) mime() (*gomail.Msg, error) {
	msg := gomail.NewMsg(gomail.WithNoDefaultUserAgent())
	if err := msg.From(m.From); err != nil {
		return nil, fmt.Errorf("the sender %q is not an address: %v", m.From, err)
	}
	if err := msg.To(m.To); err != nil {
		return nil, fmt.Errorf("the recipient is not an address go-mail accepts")
	}
	msg.Subject(m.Subject)
	msg.SetDate()
	msg.SetMessageID()
	msg.SetBodyString(gomail.TypeTextPlain, m.Text)
	msg.AddAlternativeString(gomail.TypeTextHTML, m.HTML)
	return msg, nil
}

// WriteTo writes the message as it goes over the wire (MIME).
func (m Message) WriteTo(w io.Writer) (int64, error) {
	msg, err := m.mime()
	if err != nil {
		return 0, err
	}
	return msg.WriteTo(w)
}

// Preview writes the message for people to read: its headers, then the
// text and HTML parts as they are, not encoded.
func (m Message) Preview(w io.Writer) error {
	rule := strings.Repeat("-", 20)
	_, err := fmt.Fprintf(w, "From: %s\nTo: %s\nSubject: %s\n%s text/plain %s\n%s\n%s text/html %s\n%s\n",
		m.From, m.To, m.Subject, rule, rule, strings.TrimRight(m.Text, "\n"), rule, rule, strings.TrimRight(m.HTML, "\n"))
	return err
}
