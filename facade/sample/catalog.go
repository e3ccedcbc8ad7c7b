package sample

import (
	"encoding/json"
	"errors"

	"github.com/strata-dp/strata/facade"
	"github.com/valyala/fasthttp"
)

// catalogItem is one product of the merged catalog. Optional fields are
// absent when their service is missing.
type catalogItem struct {
	ID         string   `json:"id"`
	Name       string   `json:"name"`
	PriceCents int      `json:"price_cents"`
	Stock      *int     `json:"stock,omitempty"`
	Rating     *float64 `json:"rating,omitempty"`
}

type catalogBody struct {
	Products []catalogItem `json:"products"`
	// Missing names the optional services that failed; empty when whole.
	Missing []string `json:"missing"`
	Partial bool     `json:"partial"`
}

// catalog serves GET /api/catalog: products and prices are required,
// inventory and reviews optional. A missing optional part is named in
// "missing" and the answer is not cacheable.
func (s *app) catalog(c *facade.Ctx) error {
	calls := []facade.Call{
		{Name: "products", URL: s.origin + "/svc/products", Timeout: s.cfg.RequiredTimeout, Required: true, Idempotent: true, Retries: 1},
		{Name: "pricing", URL: s.origin + "/svc/pricing", Timeout: s.cfg.RequiredTimeout, Required: true, Idempotent: true, Retries: 1},
		{Name: "inventory", URL: s.origin + "/svc/inventory", Timeout: s.cfg.OptionalTimeout, Idempotent: true},
		{Name: "reviews", URL: s.origin + "/svc/reviews", Timeout: s.cfg.OptionalTimeout, Idempotent: true},
	}
	res, err := s.fanout.Do(c.Deadline(), c.RequestID(), calls)
	if err != nil {
		if errors.Is(err, facade.ErrRequiredPartFailed) {
			return facade.Errorf(fasthttp.StatusBadGateway, "catalog incomplete: %v", err)
		}
		return err
	}
	var products struct {
		Products []catalogItem `json:"products"`
	}
	var prices struct {
		PriceCents map[string]int `json:"price_cents"`
	}
	if err := errors.Join(
		json.Unmarshal(res.Part("products").Body, &products),
		json.Unmarshal(res.Part("pricing").Body, &prices),
	); err != nil {
		return facade.Errorf(fasthttp.StatusBadGateway, "catalog: bad answer from origin: %v", err)
	}
	var stock struct {
		Stock map[string]int `json:"stock"`
	}
	var reviews struct {
		Rating map[string]float64 `json:"rating"`
	}
	missing := res.Missing
	for _, opt := range []struct {
		name string
		into any
	}{{"inventory", &stock}, {"reviews", &reviews}} {
		if p := res.Part(opt.name); p.OK() && json.Unmarshal(p.Body, opt.into) != nil {
			missing = append(missing, opt.name) // a garbled optional part counts as missing
		}
	}
	out := catalogBody{Products: products.Products, Missing: missing, Partial: len(missing) > 0}
	if out.Missing == nil {
		out.Missing = []string{}
	}
	for i := range out.Products {
		it := &out.Products[i]
		it.PriceCents = prices.PriceCents[it.ID]
		if v, ok := stock.Stock[it.ID]; ok {
			it.Stock = &v
		}
		if v, ok := reviews.Rating[it.ID]; ok {
			it.Rating = &v
		}
	}
	if out.Partial {
		c.SetCacheControl("no-store")
	} else {
		c.SetCacheControl("public, max-age=5")
	}
	return c.JSON(fasthttp.StatusOK, out)
}
