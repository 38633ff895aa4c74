package jsonfmt

import (
	"encoding/json"
	"reflect"
	"testing"
)

func TestMarshal(t *testing.T) {
	v := map[string]any{"widths": []int{1, 256, 256, 1}, "lr": []float64{1e-3, -2.5e-4}, "names": []string{"a", "b"}, "empty": []int{}, "nested": [][]int{{1, 2}, {3}}}
	b, err := Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	want := `{
  "empty": [],
  "lr": [0.001, -0.00025],
  "names": [
    "a",
    "b"
  ],
  "nested": [
    [1, 2],
    [3]
  ],
  "widths": [1, 256, 256, 1]
}
`
	if string(b) != want {
		t.Errorf("got\n%s\nwant\n%s", b, want)
	}
	var back, orig any
	json.Unmarshal(b, &back)
	o, _ := json.Marshal(v)
	json.Unmarshal(o, &orig)
	if !reflect.DeepEqual(back, orig) {
		t.Errorf("the compact form decodes to %v, want %v", back, orig)
	}
}
