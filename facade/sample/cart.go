package sample

import (
	"bytes"
	"encoding/json"
	"errors"

	"github.com/strata-dp/strata/facade"
	"github.com/valyala/fasthttp"
)

// Limits of a cart.
const (
	maxCartItems    = 100
	maxQuantity     = 999
	maxCartBodySize = 4 << 10
)

type cartItem struct {
	ProductID string `json:"product_id"`
	Quantity  int    `json:"quantity"`
}

type cart struct {
	Items []cartItem `json:"items"`
}

const cartCacheControl = "private, no-store"

// getCart serves GET /api/cart: the cart of the session in the cookie, or
// an empty cart.
func (s *app) getCart(c *facade.Ctx) error {
	c.SetCacheControl(cartCacheControl)
	cur := cart{Items: []cartItem{}}
	if id, _ := s.sessions.ID(c, false); id != nil {
		if err := s.loadCart(c, id, &cur); err != nil {
			return err
		}
	}
	return c.JSON(fasthttp.StatusOK, cur)
}

// postCart serves POST /api/cart {"product_id": "1", "quantity": 2}: adds the
// quantity to the product's line and answers with the whole cart.
func (s *app) postCart(c *facade.Ctx) error {
	c.SetCacheControl(cartCacheControl)
	body := c.Request().Body()
	if len(body) > maxCartBodySize {
		return facade.Errorf(fasthttp.StatusRequestEntityTooLarge, "cart item larger than %d bytes", maxCartBodySize)
	}
	var add cartItem
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&add); err != nil {
		return facade.Errorf(fasthttp.StatusBadRequest, `want {"product_id": "1", "quantity": 2}: %v`, err)
	}
	if !validID([]byte(add.ProductID)) {
		return facade.Errorf(fasthttp.StatusBadRequest, "product_id must be 1-%d letters, digits, - or _", maxIDLen)
	}
	if add.Quantity < 1 || add.Quantity > maxQuantity {
		return facade.Errorf(fasthttp.StatusBadRequest, "quantity must be 1..%d", maxQuantity)
	}
	id, _ := s.sessions.ID(c, true)
	// A compare-and-set update: two nodes adding to one cart at once both land.
	data, err := s.sessions.Update(c, id, func(old []byte, exists bool) ([]byte, error) {
		cur := cart{Items: []cartItem{}}
		if exists {
			if err := json.Unmarshal(old, &cur); err != nil {
				return nil, facade.Errorf(fasthttp.StatusInternalServerError, "stored cart unreadable")
			}
		}
		if err := cur.add(add); err != nil {
			return nil, err
		}
		return json.Marshal(cur)
	})
	if err != nil {
		return err
	}
	c.Write(fasthttp.StatusOK, "application/json", data)
	return nil
}

func (s *app) loadCart(c *facade.Ctx, id []byte, into *cart) error {
	data, err := s.sessions.Get(c, id)
	switch {
	case errors.Is(err, facade.ErrNotFound):
		return nil // expired or never written: an empty cart
	case err != nil:
		return err
	}
	if err := json.Unmarshal(data, into); err != nil {
		return facade.Errorf(fasthttp.StatusInternalServerError, "stored cart unreadable")
	}
	if into.Items == nil {
		into.Items = []cartItem{}
	}
	return nil
}

func (ct *cart) add(it cartItem) error {
	for i := range ct.Items {
		if ct.Items[i].ProductID == it.ProductID {
			if q := ct.Items[i].Quantity + it.Quantity; q <= maxQuantity {
				ct.Items[i].Quantity = q
				return nil
			}
			return facade.Errorf(fasthttp.StatusConflict, "quantity of %q would exceed %d", it.ProductID, maxQuantity)
		}
	}
	if len(ct.Items) >= maxCartItems {
		return facade.Errorf(fasthttp.StatusConflict, "cart holds at most %d products", maxCartItems)
	}
	ct.Items = append(ct.Items, it)
	return nil
}
