"""Python sample from seed page shared/seeds/002_42b83b2f8fbbf58e.txt (Delete process)."""
import requests
import json
import os

access_token = os.environ.get('TALLYFY_ACCESS_TOKEN', 'YOUR_PERSONAL_ACCESS_TOKEN')
org_id = os.environ.get('TALLYFY_ORG_ID', 'YOUR_ORGANIZATION_ID')
run_id = os.environ['TALLYFY_RUN_ID']
base = os.environ['TALLYFY_API_BASE']
api_url = f'{base}/organizations/{org_id}/runs/{run_id}/delete' # Note /delete path

headers = {
    'Authorization': f'Bearer {access_token}',
    'Accept': 'application/json',
    'X-Tallyfy-Client': 'APIClient'
}

response = None
try:
    response = requests.delete(api_url, headers=headers)

    # Check for successful status codes (200 or 204)
    if response.status_code == 200:
        print(f'Successfully deleted process {run_id}. Status: 200 OK')
        try:
            if response.content:
                delete_response = response.json()
                print('Delete response details:')
                print(json.dumps(delete_response, indent=4))
            else:
                print("(Response body empty for 200 OK)")
        except json.JSONDecodeError:
            print(f"(Received status 200 but body not valid JSON: {response.text})")
    elif response.status_code == 204:
        print(f'Successfully deleted process {run_id}. Status: 204 No Content')
    else:
        # Raise an exception for other non-success status codes
        response.raise_for_status()

except requests.exceptions.HTTPError as http_err:
    print(f"HTTP error occurred deleting process {run_id}: {http_err}")
    if response is not None:
        print(f"Response Body: {response.text}")
except requests.exceptions.RequestException as req_err:
    print(f"Request failed deleting process {run_id}: {req_err}")
except Exception as err:
    print(f"An unexpected error occurred: {err}")
