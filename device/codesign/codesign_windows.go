package codesign

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"unsafe"

	"golang.org/x/sys/windows"
)

// crypt32's message functions, which golang.org/x/sys/windows does not
// wrap. Loaded on first use from System32 only; never reassigned.
var (
	crypt32              = windows.NewLazySystemDLL("crypt32.dll")
	procCryptMsgGetParam = crypt32.NewProc("CryptMsgGetParam")
	procCryptMsgClose    = crypt32.NewProc("CryptMsgClose")
)

// cmsgSignerInfoParam is CMSG_SIGNER_INFO_PARAM (wincrypt.h).
const cmsgSignerInfoParam = 6

// cmsgSignerInfo is the beginning of CMSG_SIGNER_INFO (wincrypt.h), up to
// the fields read here; the rest follows in the same buffer.
type cmsgSignerInfo struct {
	Version      uint32
	Issuer       windows.CertNameBlob
	SerialNumber windows.CryptIntegerBlob
}

// errUnsigned means the file has no embedded Authenticode signature.
var errUnsigned = errors.New("no embedded signature")

// signer verifies the file's Authenticode signature and names its signer.
// Neither call takes a context, so they run on their own goroutine and
// signer stops waiting when ctx ends (they finish in the background:
// hashing the file, with no network fetches).
func signer(ctx context.Context, path string) (string, error) {
	type result struct {
		s   string
		err error
	}
	ch := make(chan result, 1)
	go func() {
		s, err := authenticode(path)
		ch <- result{s, err}
	}()
	select {
	case r := <-ch:
		return r.s, r.err
	case <-ctx.Done():
		return "", ctx.Err()
	}
}

func authenticode(path string) (string, error) {
	p, err := windows.UTF16PtrFromString(path)
	if err != nil {
		return "", err
	}
	trustErr := verify(p)
	name, err := signerName(p)
	switch {
	case errors.Is(err, errUnsigned):
		return "", nil
	case err != nil && trustErr != nil:
		return "", fmt.Errorf("%w (and WinVerifyTrust: %v)", err, trustErr)
	case err != nil:
		return "", err
	}
	return sig{name: name, invalid: trustErr != nil}.String(), nil
}

// verify checks the file's embedded signature and its chain
// (WINTRUST_ACTION_GENERIC_VERIFY_V2) with no UI and no revocation check
// beyond what is cached: nothing is fetched from the network.
func verify(path *uint16) error {
	file := windows.WinTrustFileInfo{
		Size:     uint32(unsafe.Sizeof(windows.WinTrustFileInfo{})),
		FilePath: path,
	}
	data := windows.WinTrustData{
		Size:                            uint32(unsafe.Sizeof(windows.WinTrustData{})),
		UIChoice:                        windows.WTD_UI_NONE,
		RevocationChecks:                windows.WTD_REVOKE_NONE,
		UnionChoice:                     windows.WTD_CHOICE_FILE,
		FileOrCatalogOrBlobOrSgnrOrCert: unsafe.Pointer(&file),
		StateAction:                     windows.WTD_STATEACTION_VERIFY,
		ProvFlags:                       windows.WTD_REVOCATION_CHECK_NONE | windows.WTD_CACHE_ONLY_URL_RETRIEVAL | windows.WTD_DISABLE_MD2_MD4,
		UIContext:                       windows.WTD_UICONTEXT_EXECUTE,
	}
	err := windows.WinVerifyTrustEx(windows.InvalidHWND, &windows.WINTRUST_ACTION_GENERIC_VERIFY_V2, &data)
	data.StateAction = windows.WTD_STATEACTION_CLOSE
	windows.WinVerifyTrustEx(windows.InvalidHWND, &windows.WINTRUST_ACTION_GENERIC_VERIFY_V2, &data)
	runtime.KeepAlive(&file)
	return err
}

// signerName is the simple display name (the subject's common name) of
// the certificate that made the file's embedded signature, found in the
// signature's own certificate store by the issuer and serial number the
// signer info names.
func signerName(path *uint16) (string, error) {
	var (
		encoding, content, format uint32
		store, msg                windows.Handle
	)
	err := windows.CryptQueryObject(windows.CERT_QUERY_OBJECT_FILE, unsafe.Pointer(path),
		windows.CERT_QUERY_CONTENT_FLAG_PKCS7_SIGNED_EMBED, windows.CERT_QUERY_FORMAT_FLAG_BINARY, 0,
		&encoding, &content, &format, &store, &msg, nil)
	if err != nil {
		if errors.Is(err, windows.Errno(windows.CRYPT_E_NO_MATCH)) {
			return "", errUnsigned
		}
		return "", fmt.Errorf("reading the signature (CryptQueryObject): %w", err)
	}
	defer windows.CertCloseStore(store, 0)
	defer procCryptMsgClose.Call(uintptr(msg))

	var size uint32
	if r, _, e := procCryptMsgGetParam.Call(uintptr(msg), cmsgSignerInfoParam, 0, 0, uintptr(unsafe.Pointer(&size))); r == 0 {
		return "", fmt.Errorf("reading the signer info (CryptMsgGetParam): %w", e)
	}
	if size < uint32(unsafe.Sizeof(cmsgSignerInfo{})) {
		return "", fmt.Errorf("reading the signer info (CryptMsgGetParam): %d bytes is too short", size)
	}
	buf := make([]uint64, (size+7)/8) // 8-byte aligned, as the struct needs
	if r, _, e := procCryptMsgGetParam.Call(uintptr(msg), cmsgSignerInfoParam, 0, uintptr(unsafe.Pointer(&buf[0])), uintptr(unsafe.Pointer(&size))); r == 0 {
		return "", fmt.Errorf("reading the signer info (CryptMsgGetParam): %w", e)
	}
	si := (*cmsgSignerInfo)(unsafe.Pointer(&buf[0]))
	find := windows.CertInfo{Issuer: si.Issuer, SerialNumber: si.SerialNumber}
	cert, err := windows.CertFindCertificateInStore(store, encoding, 0, windows.CERT_FIND_SUBJECT_CERT, unsafe.Pointer(&find), nil)
	runtime.KeepAlive(buf)
	if err != nil {
		return "", fmt.Errorf("finding the signer's certificate (CertFindCertificateInStore): %w", err)
	}
	defer windows.CertFreeCertificateContext(cert)

	n := windows.CertGetNameString(cert, windows.CERT_NAME_SIMPLE_DISPLAY_TYPE, 0, nil, nil, 0)
	if n <= 1 { // the count includes the terminating NUL
		return "", errors.New("the signer's certificate has no name")
	}
	name := make([]uint16, n)
	windows.CertGetNameString(cert, windows.CERT_NAME_SIMPLE_DISPLAY_TYPE, 0, nil, &name[0], n)
	return windows.UTF16ToString(name), nil
}
