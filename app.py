from shopify_loyalty import create_app

app = create_app()
