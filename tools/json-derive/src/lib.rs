//! `#[derive(FromJson)]`: the core's input readers (`kc_telemed::json::FromJson`), generated
//! from the type itself, so each input's fields are described once.
//!
//! - A struct with named fields is read field by field, by name (`#[serde(rename = "..")]`
//!   where the JSON name differs). A field marked `#[serde(default)]` takes
//!   `Default::default()` when absent, `#[serde(default = "path")]` calls `path()`; without
//!   one, an absent field is the field type's own choice (`None` for options) or an error.
//!   Unknown fields are accepted unless the struct says `#[serde(deny_unknown_fields)]`.
//! - `#[from_json(inline)]` on a struct read on every booking: its reader sorts the object's
//!   entries into slots in one pass (each key matched by length, then word by word) and reads
//!   each field inline, instead of looking each field up among the entries through shared
//!   code. Faster in the interpreter (a create call 6 %, a lifecycle step 9 %), but each such
//!   reader is several times larger, so only the hot structs ask for it.
//! - An enum of unit variants is read from its names: `rename_all = "snake_case"` (or each
//!   variant's `rename`).
//!
//! The generated code is what the hand-written `from_json!` lists expanded to: the same size
//! and speed in the .wasm (README, "Size of the core").

use proc_macro::TokenStream;
use proc_macro2::Span;
use quote::quote;
use syn::{parse_macro_input, Attribute, Data, DeriveInput, Expr, ExprLit, Fields, Lit, LitStr};

#[proc_macro_derive(FromJson, attributes(serde, from_json))]
pub fn derive_from_json(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    match expand(&input) {
        Ok(t) => t.into(),
        Err(e) => e.to_compile_error().into(),
    }
}

/// The `serde(...)` settings this derive reads.
#[derive(Default)]
struct Serde {
    rename: Option<String>,
    rename_all: Option<String>,
    deny_unknown_fields: bool,
    /// `Some(None)`: `default`; `Some(Some(path))`: `default = "path"`.
    default: Option<Option<syn::Path>>,
}

fn serde_attrs(attrs: &[Attribute]) -> syn::Result<Serde> {
    let mut s = Serde::default();
    for attr in attrs.iter().filter(|a| a.path().is_ident("serde")) {
        attr.parse_nested_meta(|meta| {
            let string = |m: &syn::meta::ParseNestedMeta| -> syn::Result<String> {
                Ok(m.value()?.parse::<LitStr>()?.value())
            };
            if meta.path.is_ident("rename") {
                s.rename = Some(string(&meta)?);
            } else if meta.path.is_ident("rename_all") {
                s.rename_all = Some(string(&meta)?);
            } else if meta.path.is_ident("deny_unknown_fields") {
                s.deny_unknown_fields = true;
            } else if meta.path.is_ident("default") {
                s.default = Some(if meta.input.peek(syn::Token![=]) {
                    let expr: Expr = meta.value()?.parse()?;
                    match expr {
                        Expr::Lit(ExprLit {
                            lit: Lit::Str(p), ..
                        }) => Some(p.parse()?),
                        _ => return Err(meta.error("default = \"path::to::fn\"")),
                    }
                } else {
                    None
                });
            } else if meta.input.peek(syn::Token![=]) {
                // Serialization settings (skip_serializing_if, tag, ...): not ours to read.
                let _: Expr = meta.value()?.parse()?;
            }
            Ok(())
        })?;
    }
    Ok(s)
}

fn snake_case(name: &str) -> String {
    let mut out = String::new();
    for (i, c) in name.chars().enumerate() {
        if c.is_ascii_uppercase() {
            if i > 0 {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// A field's identifier, its JSON name (`rename`), and its default: `None` for none,
/// `Some(None)` for `Default::default`, `Some(Some(path))` for `path()`. A container-level
/// `default` covers every field without its own.
fn field_parts<'f>(
    f: &'f syn::Field,
    top: &Serde,
) -> syn::Result<(&'f syn::Ident, String, Option<Option<syn::Path>>)> {
    let ident = f.ident.as_ref().expect("named");
    let attrs = serde_attrs(&f.attrs)?;
    let name = attrs.rename.unwrap_or_else(|| ident.to_string());
    let default = attrs.default.or_else(|| top.default.as_ref().map(|_| None));
    Ok((ident, name, default))
}

/// Whether the struct says `#[from_json(inline)]`.
fn inline(attrs: &[Attribute]) -> syn::Result<bool> {
    let mut on = false;
    for attr in attrs.iter().filter(|a| a.path().is_ident("from_json")) {
        attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("inline") {
                on = true;
                Ok(())
            } else {
                Err(meta.error("from_json(inline) is the only setting"))
            }
        })?;
    }
    Ok(on)
}

/// The reader of a `#[from_json(inline)]` struct (see the crate's comment). It reports what
/// the shared reader does: the first unknown field in input order before any field error,
/// then the first field error in declaration order; a repeated key's last value wins.
fn inline_reader(fields: &syn::FieldsNamed, top: &Serde) -> syn::Result<proc_macro2::TokenStream> {
    let mut names = Vec::new();
    let mut reads = Vec::new();
    for (i, f) in fields.named.iter().enumerate() {
        let (ident, name, default) = field_parts(f, top)?;
        // An absent field with a default is the default right here: no path is made and no
        // reader called (a policy layer has twenty optional fields, mostly absent).
        let absent = match default {
            None => quote! { d::absent(at.key(#name), &mut err)? },
            Some(None) => quote! { ::core::default::Default::default() },
            Some(Some(path)) => quote! { #path() },
        };
        let read = quote! {
            match slots[#i].take() {
                ::core::option::Option::Some(v) => d::present(v, at.key(#name), &mut err)?,
                ::core::option::Option::None => #absent,
            }
        };
        reads.push(quote! { #ident: #read });
        names.push(name);
    }
    // Each key to its slot: by length first (a jump table), then word by word among the
    // names of that length (a `match` on the string would call a byte-by-byte memcmp).
    let mut lengths: Vec<usize> = names.iter().map(String::len).collect();
    lengths.sort_unstable();
    lengths.dedup();
    let arms = lengths.iter().map(|len| {
        let tests = names
            .iter()
            .enumerate()
            .filter(|(_, n)| n.len() == *len)
            .map(|(i, n)| quote! { if d::same_key(&k, #n) { #i } else });
        quote! { #len => #(#tests)* { N } }
    });
    let n = names.len();
    let unknown = if top.deny_unknown_fields {
        quote! {
            if unknown.is_none() {
                unknown = ::core::option::Option::Some(k);
            }
        }
    } else {
        quote! {}
    };
    Ok(quote! {
        use crate::json::read::derived as d;
        const N: usize = #n;
        let mut slots: [::core::option::Option<crate::json::Json>; N] =
            [const { ::core::option::Option::None }; N];
        #[allow(unused_mut)]
        let mut unknown: ::core::option::Option<::std::borrow::Cow<str>> = ::core::option::Option::None;
        for (k, v) in d::entries(v, &at)? {
            let i = match k.len() {
                #(#arms,)*
                _ => N,
            };
            if i < N {
                if let ::core::option::Option::Some(earlier) = slots[i].replace(v) {
                    d::drop_value(earlier);
                }
            } else {
                #unknown
                d::drop_value(v);
            }
        }
        if let ::core::option::Option::Some(k) = unknown {
            return ::core::result::Result::Err(d::unknown(&at, &k, &[#(#names),*]));
        }
        let mut err = ::core::option::Option::None;
        let built = (|| ::core::option::Option::Some(Self { #(#reads,)* }))();
        d::built(built, err, &at)
    })
}

fn expand(input: &DeriveInput) -> syn::Result<proc_macro2::TokenStream> {
    let ty = &input.ident;
    let (impl_generics, ty_generics, where_clause) = input.generics.split_for_impl();
    let top = serde_attrs(&input.attrs)?;
    let body = match &input.data {
        Data::Struct(s) => {
            let Fields::Named(fields) = &s.fields else {
                return Err(syn::Error::new(
                    Span::call_site(),
                    "FromJson needs named fields",
                ));
            };
            if inline(&input.attrs)? {
                inline_reader(fields, &top)?
            } else {
                let mut names = Vec::new();
                let mut reads = Vec::new();
                for f in &fields.named {
                    let (ident, name, default) = field_parts(f, &top)?;
                    let read = match default {
                        None => quote! { o.get(#name)? },
                        Some(None) => {
                            quote! { o.get_or(#name, ::core::default::Default::default)? }
                        }
                        Some(Some(path)) => quote! { o.get_or(#name, #path)? },
                    };
                    reads.push(quote! { #ident: #read });
                    names.push(name);
                }
                let known = if top.deny_unknown_fields {
                    quote! { ::core::option::Option::Some(&[#(#names),*][..]) }
                } else {
                    quote! { ::core::option::Option::None }
                };
                quote! {
                    let mut o = crate::json::Obj::new(v, at, #known)?;
                    let built = (|| ::core::option::Option::Some(Self { #(#reads,)* }))();
                    o.finish(built)
                }
            }
        }
        Data::Enum(e) => {
            let mut pairs = Vec::new();
            for var in &e.variants {
                if !matches!(var.fields, Fields::Unit) {
                    return Err(syn::Error::new_spanned(
                        var,
                        "FromJson reads unit variants only",
                    ));
                }
                let attrs = serde_attrs(&var.attrs)?;
                let ident = &var.ident;
                let name = match (attrs.rename, top.rename_all.as_deref()) {
                    (Some(n), _) => n,
                    (None, Some("snake_case")) => snake_case(&ident.to_string()),
                    (None, Some(other)) => {
                        return Err(syn::Error::new_spanned(
                            var,
                            format!("rename_all = {other:?} is not supported"),
                        ))
                    }
                    (None, None) => ident.to_string(),
                };
                pairs.push(quote! { (#name, #ty::#ident) });
            }
            quote! { crate::json::name(v, at, &[#(#pairs),*]) }
        }
        Data::Union(_) => {
            return Err(syn::Error::new(
                Span::call_site(),
                "FromJson does not read unions",
            ))
        }
    };
    Ok(quote! {
        impl #impl_generics crate::json::FromJson for #ty #ty_generics #where_clause {
            fn from_json(v: crate::json::Json, at: crate::json::Path) -> crate::error::Result<Self> {
                #body
            }
        }
    })
}
