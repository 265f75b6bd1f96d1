package expansion_test

import (
	"fmt"

	"github.com/rulegate/rulegate/expansion"
)

func ExampleParse() {
	ref, err := expansion.Parse("%%user.custom_data.teamIds")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(ref.Root.Name(), ref.Path, ref.Phase())

	_, err = expansion.Parse("%%usr.id")
	fmt.Println(err)
	// Output:
	// %%user [custom_data teamIds] request
	// %%usr.id: unknown expansion "%%usr" (did you mean %%user?) (expansion/unknown)
}

func ExampleNewUserObject() {
	u, err := expansion.NewUserObject([]byte(`{"id": "u1", "type": "normal", "custom_data": {"admin": true}}`))
	if err != nil {
		fmt.Println(err)
		return
	}
	admin, _ := u.Lookup("custom_data", "admin")
	fmt.Println(admin)
	missing, _ := u.Lookup("custom_data", "missing")
	fmt.Println(missing.IsMissing())
	// Output:
	// true
	// true
}

func ExampleNewUserClaims() {
	u, _ := expansion.NewUserClaims([]byte(`{"sub": "u1", "user_type": "normal", "user_data": {"team": "red"}}`))
	in := expansion.Inputs{User: u}
	ref, _ := expansion.Parse("%%user.custom_data.team")
	v, _ := in.Resolve(ref)
	fmt.Println(v)
	// Output: "red"
}

func ExampleInputs_Resolve() {
	u, _ := expansion.NewUserObject([]byte(`{"id": "u1", "custom_data": {"teamIds": ["red", "blue"]}}`))
	in := expansion.Inputs{
		User:   u,
		Values: []byte(`{"admin_ids": ["u1", "u9"]}`),
	}
	for _, s := range []string{"%%user.id", "%%user.custom_data.teamIds", "%%values.admin_ids", "%%user.custom_data.orgId", "%%true"} {
		ref, _ := expansion.Parse(s)
		v, _ := in.Resolve(ref)
		fmt.Println(s, "=", v)
	}
	ref, _ := expansion.Parse("%%root.owner")
	_, err := in.Resolve(ref)
	fmt.Println(err)
	// Output:
	// %%user.id = "u1"
	// %%user.custom_data.teamIds = ["red","blue"]
	// %%values.admin_ids = ["u1","u9"]
	// %%user.custom_data.orgId = missing
	// %%true = true
	// expansion: document expansions are resolved per document
}

func ExampleVocabulary() {
	for _, in := range expansion.Vocabulary()[:3] {
		fmt.Println(in.Name, in.Phase)
	}
	// Output:
	// %%user request
	// %%root document
	// %%prevRoot document
}
