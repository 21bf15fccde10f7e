package lm

/*
#include <lm.h>
*/
import "C"

import (
	"io/fs"
)

// Status is an lm_status other than LM_OK. A Status is itself an error, so that
// errors.Is(err, lm.ErrNotFound) tests the status of any *Error.
type Status int

// The statuses of lm.h (LM_ERR_*).
const (
	ErrInvalidArgument Status = C.LM_ERR_INVALID_ARGUMENT
	ErrNoMemory        Status = C.LM_ERR_NOMEM
	ErrIO              Status = C.LM_ERR_IO
	ErrNotFound        Status = C.LM_ERR_NOT_FOUND
	ErrPermission      Status = C.LM_ERR_PERMISSION
	ErrFormat          Status = C.LM_ERR_FORMAT
	ErrUnsupported     Status = C.LM_ERR_UNSUPPORTED
	ErrUTF8            Status = C.LM_ERR_UTF8
	ErrRange           Status = C.LM_ERR_RANGE
	ErrShape           Status = C.LM_ERR_SHAPE
	ErrState           Status = C.LM_ERR_STATE
	ErrInternal        Status = C.LM_ERR_INTERNAL
	ErrBufferTooSmall  Status = C.LM_ERR_BUFFER_TOO_SMALL
	ErrNumeric         Status = C.LM_ERR_NUMERIC
)

// Name is the library's name of the status, e.g. "LM_ERR_NOT_FOUND".
func (s Status) Name() string { return C.GoString(C.lm_status_string(C.lm_status(s))) }

// Error is the library's description of the status, e.g. "file or item not found".
func (s Status) Error() string { return C.GoString(C.lm_status_description(C.lm_status(s))) }

// Error is a failed liblm call: its status and the sentence that names what failed.
type Error struct {
	Status  Status
	Message string
}

func (e *Error) Error() string { return e.Status.Name() + ": " + e.Message }

// Is matches a Status (errors.Is(err, lm.ErrNotFound)) and the io/fs errors of the same meaning
// (fs.ErrNotExist, fs.ErrPermission).
func (e *Error) Is(target error) bool {
	switch t := target.(type) {
	case Status:
		return t == e.Status
	}
	switch target {
	case fs.ErrNotExist:
		return e.Status == ErrNotFound
	case fs.ErrPermission:
		return e.Status == ErrPermission
	}
	return false
}

// Unwrap gives the Status, so errors.As(err, &status) works too.
func (e *Error) Unwrap() error { return e.Status }

func invalid(msg string) error { return &Error{Status: ErrInvalidArgument, Message: msg} }

func closed(what string) error {
	return &Error{Status: ErrState, Message: "the " + what + " is closed"}
}
